"use client";
/**
 * Plans and credit packs (GET /api/payments/prices/) with Buy buttons that open Stripe
 * Checkout, and the Customer Portal for a subscription. Says so plainly when billing is
 * not configured on this server, and then offers nothing to buy.
 */
import { useCallback, useEffect, useState } from "react";
import { api } from "@/lib/api";
import type { Account, Price } from "@/lib/api/schemas";
import { canBuy, newIdempotencyKey, planName, priceAmount, priceDescription, priceTitle } from "@/lib/account";
import {
  billingFromConfig,
  billingFromError,
  billingFromPrices,
  isBillingDisabledError,
  BILLING_UNAVAILABLE,
  type BillingState,
} from "@/lib/billing";
import { leaveTo } from "@/lib/navigate";
import { useApp } from "@/hooks/use-app";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/account.css";

export function BillingSection({ account }: { account: Account }) {
  const { config } = useApp();
  const [state, setState] = useState<BillingState>(
    () => billingFromConfig(config?.billing_enabled) ?? { kind: "loading" },
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const load = useCallback(async () => {
    const off = billingFromConfig(config?.billing_enabled);
    if (off) {
      setState(off);
      return;
    }
    setState({ kind: "loading" });
    try {
      setState(billingFromPrices(await api.prices()));
    } catch (error) {
      setState(billingFromError(error));
    }
  }, [config?.billing_enabled]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    // Back from Stripe through the browser's history: the page may come from its cache.
    const onShow = (event: PageTransitionEvent) => {
      if (event.persisted) setBusy(null);
    };
    window.addEventListener("pageshow", onShow);
    return () => window.removeEventListener("pageshow", onShow);
  }, []);

  async function run(what: string, action: () => Promise<string>) {
    setBusy(what);
    setActionError(null);
    try {
      leaveTo(await action());
      // Stay busy: the page is leaving for Stripe.
    } catch (error) {
      setBusy(null);
      if (isBillingDisabledError(error)) setState({ kind: "unavailable", reason: BILLING_UNAVAILABLE });
      else setActionError(error);
    }
  }

  const buy = (price: Price) =>
    run(price.price_key, async () => (await api.startCheckout(price.price_key, newIdempotencyKey())).url);
  const manage = () => run("portal", async () => (await api.billingPortal()).url);

  return (
    <section className="card" aria-labelledby="billing-heading" data-testid="billing" data-state={state.kind}>
      <h2 id="billing-heading">Plans and credits</h2>
      <p>
        Your plan: <strong>{planName(account.plan)}</strong>
      </p>
      {state.kind === "unavailable" && (
        <p className="notice" data-testid="billing-unavailable">
          {state.reason}
        </p>
      )}
      {state.kind === "loading" && (
        <p className="muted small" role="status">
          Loading plans…
        </p>
      )}
      {state.kind === "error" && <ErrorBanner error={state.error} onRetry={() => void load()} />}
      {state.kind === "ready" && (
        <>
          <ul className="price-list">
            {state.prices.map((price) => {
              const title = priceTitle(price);
              const owned = !canBuy(price, account.plan);
              return (
                <li key={price.price_key} className="price" data-testid="price" data-price-key={price.price_key}>
                  <h3>{title}</h3>
                  {priceAmount(price) && (
                    <p className="price-amount" data-testid="price-amount">
                      {priceAmount(price)}
                    </p>
                  )}
                  <p className="small muted">{priceDescription(price)}</p>
                  {owned ? (
                    <p className="small">
                      <span className="badge">Your plan</span>
                    </p>
                  ) : (
                    <button
                      type="button"
                      onClick={() => void buy(price)}
                      disabled={busy !== null}
                      aria-label={`Buy ${title}`}
                    >
                      {busy === price.price_key ? "Opening checkout…" : "Buy"}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
          <p className="small muted">Payment is handled by Stripe; Checkout shows the final price before you pay.</p>
          {account.plan !== "free" && (
            <button type="button" className="secondary" onClick={() => void manage()} disabled={busy !== null}>
              {busy === "portal" ? "Opening…" : "Manage subscription"}
            </button>
          )}
        </>
      )}
      {actionError ? <ErrorBanner error={actionError} onDismiss={() => setActionError(null)} /> : null}
    </section>
  );
}
