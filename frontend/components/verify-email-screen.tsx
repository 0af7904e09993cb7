"use client";
/** /account/verify-email?uid=&token= — the emailed link: confirms the address once. */
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { api } from "@/lib/api";
import type { Account } from "@/lib/api/schemas";
import { toApiError } from "@/lib/errors";
import { useApp } from "@/hooks/use-app";
import { ErrorBanner } from "@/components/error-banner";

// One request per link, even when React runs the effect twice (development).
const attempts = new Map<string, Promise<Account>>();

function verifyOnce(uid: string, token: string): Promise<Account> {
  const key = `${uid}:${token}`;
  let attempt = attempts.get(key);
  if (!attempt) {
    attempt = api.verifyEmail(uid, token);
    attempts.set(key, attempt);
  }
  return attempt;
}

type State =
  | { kind: "missing" }
  | { kind: "verifying" }
  | { kind: "verified"; email: string }
  | { kind: "invalid" }
  | { kind: "error"; error: unknown };

export function VerifyEmailScreen() {
  const search = useSearchParams();
  const uid = search.get("uid") ?? "";
  const token = search.get("token") ?? "";
  const { account, setAccount } = useApp();
  const [state, setState] = useState<State>(uid && token ? { kind: "verifying" } : { kind: "missing" });

  useEffect(() => {
    if (!uid || !token) {
      setState({ kind: "missing" });
      return;
    }
    let cancelled = false;
    setState({ kind: "verifying" });
    verifyOnce(uid, token)
      .then((verified) => {
        if (cancelled) return;
        setState({ kind: "verified", email: verified.email });
        // The same account is signed in here: show it verified everywhere.
        setAccount((current: Account | null) => (current && current.id === verified.id ? verified : current));
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        const api = toApiError(error);
        setState(api.code === "VALIDATION_ERROR" ? { kind: "invalid" } : { kind: "error", error });
      });
    return () => {
      cancelled = true;
    };
  }, [uid, token, setAccount]);

  return (
    <div className="page prose" data-testid="verify-email" data-state={state.kind}>
      <h1>Confirm your email</h1>
      {state.kind === "verifying" && <p role="status">Confirming your email address…</p>}
      {state.kind === "verified" && (
        <div role="status">
          <p>
            <strong>{state.email}</strong> is confirmed. Thank you.
          </p>
          <p>
            <Link href="/account">Go to your account</Link>
          </p>
        </div>
      )}
      {state.kind === "invalid" && account?.email_verified && (
        <p role="status">
          Your address <strong>{account.email}</strong> is already confirmed. <Link href="/account">Your account</Link>
        </p>
      )}
      {(state.kind === "missing" || (state.kind === "invalid" && !account?.email_verified)) && (
        <div role="alert" className="notice">
          <p>
            {state.kind === "missing"
              ? "This link is incomplete: open the whole link from the email."
              : "This link is invalid or has expired, or the address is already confirmed."}
          </p>
          <p>
            {account
              ? "Ask for a new link on your account page (Resend verification email)."
              : "Log in to your account to ask for a new link."}{" "}
            <Link href="/account">Your account</Link>
          </p>
        </div>
      )}
      {state.kind === "error" && <ErrorBanner error={state.error} />}
    </div>
  );
}
