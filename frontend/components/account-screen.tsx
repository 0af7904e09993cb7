"use client";
/**
 * /account. Signed out: create an account or log in (and reset a password). Signed in:
 * the account, API keys, plans and credits, and the account's data (export, deletion).
 */
import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "@/lib/api";
import type { Account } from "@/lib/api/schemas";
import { isSignedIn } from "@/lib/account";
import { useApp } from "@/hooks/use-app";
import { AccountData } from "@/components/account-data";
import { AccountSummary } from "@/components/account-summary";
import { ApiKeys } from "@/components/api-keys";
import { LoginForm, RegisterForm } from "@/components/auth-forms";
import { BillingSection } from "@/components/billing-section";
import { CreditsLedger } from "@/components/credits-ledger";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/account.css";

function SignedOut({ notice }: { notice: string | null }) {
  const { setAccount, refreshIdentity } = useApp();
  const signedIn = useCallback(
    async (account: Account) => {
      setAccount(account);
      await refreshIdentity();
    },
    [setAccount, refreshIdentity],
  );
  return (
    <div className="page account" data-testid="account-page" data-signed-in="false">
      <h1>Your account</h1>
      {notice && (
        <p role="status" className="notice" data-testid="account-notice">
          {notice}
        </p>
      )}
      <p className="muted prose">
        Visitors share a small daily AI budget. An account gets a larger one, API keys for your own scripts,
        and paid plans or credits when billing is available. Your chats so far stay with you when you sign up
        or log in.
      </p>
      <div className="auth-grid">
        <RegisterForm onSignedIn={signedIn} />
        <LoginForm onSignedIn={signedIn} />
      </div>
    </div>
  );
}

function SignedIn({ account, onSignedOut }: { account: Account; onSignedOut: (notice: string) => void }) {
  const { setAccount, refreshIdentity } = useApp();
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    // Fresh numbers (credits, plan) whenever the page opens; focus lands on the heading.
    headingRef.current?.focus();
    let cancelled = false;
    api
      .account()
      .then((fresh) => {
        // Not after a logout that happened meanwhile.
        if (!cancelled) setAccount((current) => (current && current.id === fresh.id ? fresh : current));
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [setAccount]);

  const logout = useCallback(async () => {
    await api.logout();
    await refreshIdentity();
    onSignedOut("You are logged out.");
  }, [refreshIdentity, onSignedOut]);

  const deleted = useCallback(async () => {
    await refreshIdentity().catch(() => {});
    onSignedOut("Your account and its data were deleted.");
  }, [refreshIdentity, onSignedOut]);

  return (
    <div className="page account" data-testid="account-page" data-signed-in="true">
      <h1 ref={headingRef} tabIndex={-1}>
        Your account
      </h1>
      <AccountSummary account={account} onLogout={logout} />
      <ApiKeys />
      <BillingSection account={account} />
      <CreditsLedger />
      <AccountData email={account.email} onDeleted={deleted} />
      <p className="small muted">
        Back to the <Link href="/chat">chat</Link>.
      </p>
    </div>
  );
}

export function AccountScreen() {
  const { me, account, refreshIdentity } = useApp();
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  if (account) return <SignedIn account={account} onSignedOut={setNotice} />;
  if (isSignedIn(me)) {
    // Signed in, but the account could not be read: say so rather than offer a sign-up.
    return (
      <div className="page account" data-testid="account-page">
        <h1>Your account</h1>
        <ErrorBanner
          error={error ?? new Error("Your account could not be loaded.")}
          onRetry={() => refreshIdentity().catch(setError)}
        />
      </div>
    );
  }
  return <SignedOut notice={notice} />;
}
