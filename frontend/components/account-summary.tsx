"use client";
/** Who is signed in: email (verified or not), plan, credits, the guard's limits; log out. */
import { useState } from "react";
import { api } from "@/lib/api";
import type { Account } from "@/lib/api/schemas";
import { formatUsd, limitRows, planName } from "@/lib/account";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/account.css";

function ResendVerification() {
  const [state, setState] = useState<"idle" | "sending" | "sent">("idle");
  const [error, setError] = useState<unknown>(null);

  async function resend() {
    setState("sending");
    setError(null);
    try {
      await api.resendVerification();
      setState("sent");
    } catch (err) {
      setError(err);
      setState("idle");
    }
  }

  return (
    <>
      <button
        type="button"
        className="ghost small-button"
        onClick={() => void resend()}
        disabled={state === "sending"}
      >
        {state === "sending" ? "Sending…" : "Resend verification email"}
      </button>
      <span role="status" className="small">
        {state === "sent" ? " Sent: open the link in the email to confirm your address." : ""}
      </span>
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
    </>
  );
}

export function AccountSummary({
  account,
  onLogout,
}: {
  account: Account;
  onLogout: () => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function logout() {
    setBusy(true);
    setError(null);
    try {
      await onLogout();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="summary-heading" data-testid="account-summary">
      <div className="card-head">
        <h2 id="summary-heading">Signed in</h2>
        <button type="button" className="ghost" onClick={() => void logout()} disabled={busy}>
          {busy ? "Logging out…" : "Log out"}
        </button>
      </div>
      <dl className="summary">
        <div>
          <dt>Email</dt>
          <dd>
            <span data-testid="account-email" className="break">
              {account.email}
            </span>{" "}
            {account.email_verified ? (
              <span className="badge flag-high" data-testid="email-verified">
                Verified
              </span>
            ) : (
              <span className="badge flag-low" data-testid="email-unverified">
                Not verified
              </span>
            )}
            {!account.email_verified && (
              <div className="resend">
                <ResendVerification />
              </div>
            )}
          </dd>
        </div>
        <div>
          <dt>Plan</dt>
          <dd>
            <strong data-testid="account-plan" data-plan={account.plan}>
              {planName(account.plan)}
            </strong>
          </dd>
        </div>
        <div>
          <dt>Credits</dt>
          <dd data-testid="credit-balance">{formatUsd(account.credits_usd)}</dd>
        </div>
      </dl>
      <h3 className="limits-heading">Your limits</h3>
      {account.limits.until_email_verified ? (
        <p className="small" data-testid="limits-until-verified">
          Until you verify your email you have a visitor&apos;s limits. Open the link we emailed
          you to get the {planName(account.plan)} plan&apos;s.
        </p>
      ) : null}
      <dl className="stats limits" data-testid="account-limits">
        {limitRows(account.limits).map((row) => (
          <div key={row.label}>
            <dt>{row.label}</dt>
            <dd>{row.value}</dd>
          </div>
        ))}
      </dl>
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
    </section>
  );
}
