"use client";
/** /billing/success?session_id= — where Stripe Checkout returns after a payment. */
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { api } from "@/lib/api";
import { formatUsd, planName } from "@/lib/account";
import { describeCheckout } from "@/lib/checkout";
import { useApp } from "@/hooks/use-app";
import { useCheckoutStatus } from "@/hooks/use-checkout-status";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/account.css";

export function BillingSuccessScreen() {
  const search = useSearchParams();
  const sessionId = search.get("session_id");
  const [attempt, setAttempt] = useState(0);
  const status = useCheckoutStatus(sessionId, { attempt });
  const { setAccount } = useApp();
  const refreshed = useRef(false);

  useEffect(() => {
    // Paid: the header and /account show the new plan and credits.
    if (status.phase !== "paid" || refreshed.current) return;
    refreshed.current = true;
    api
      .account()
      .then((fresh) => setAccount((current) => (current && current.id === fresh.id ? fresh : current)))
      .catch(() => {});
  }, [status.phase, setAccount]);

  const view = status.phase === "loading" ? null : describeCheckout(status.phase, status.sync);
  const sync = status.sync;
  return (
    <div className="page prose" data-testid="checkout-result" data-phase={status.phase}>
      <h1>Checkout</h1>
      {status.phase === "loading" && <p role="status">Checking your payment with Stripe…</p>}
      {view && (
        <div role={status.phase === "error" ? "alert" : "status"} className="card">
          <h2>{view.title}</h2>
          <p>{view.message}</p>
          {status.phase === "processing" && <progress aria-label="Waiting for the payment" />}
          {sync && (status.phase === "paid" || status.phase === "delayed" || status.phase === "processing") && (
            <dl className="summary">
              <div>
                <dt>Plan</dt>
                <dd data-testid="checkout-plan">{planName(sync.plan)}</dd>
              </div>
              <div>
                <dt>Credits</dt>
                <dd data-testid="checkout-credits">{formatUsd(sync.credits_usd)}</dd>
              </div>
            </dl>
          )}
        </div>
      )}
      {status.phase === "error" && status.error ? (
        <ErrorBanner error={status.error} onRetry={() => setAttempt((n) => n + 1)} />
      ) : null}
      {status.phase === "delayed" && (
        <button type="button" className="secondary" onClick={() => setAttempt((n) => n + 1)}>
          Check again
        </button>
      )}
      <p>
        <Link href="/account">Go to your account</Link> · <Link href="/chat">Back to the chat</Link>
      </p>
    </div>
  );
}
