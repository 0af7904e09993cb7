/** Whether billing can be offered, from /api/config/ and /api/payments/prices/ (pure). */
import { ApiError } from "@/lib/api/errors";
import type { Prices } from "@/lib/api/schemas";

export type BillingState =
  | { kind: "loading" }
  | { kind: "unavailable"; reason: string }
  | { kind: "error"; error: unknown }
  | { kind: "ready"; prices: Prices["prices"] };

export const BILLING_UNAVAILABLE =
  "Billing is not available on this server, so plans and credits cannot be bought here right now.";

/** The config says billing is off: no need to ask for prices. */
export function billingFromConfig(billingEnabled: boolean | undefined): BillingState | null {
  return billingEnabled ? null : { kind: "unavailable", reason: BILLING_UNAVAILABLE };
}

export function billingFromPrices(prices: Prices): BillingState {
  if (!prices.enabled) return { kind: "unavailable", reason: BILLING_UNAVAILABLE };
  if (prices.prices.length === 0) {
    return { kind: "unavailable", reason: "Nothing is on sale here yet: no plans or credit packs are configured." };
  }
  return { kind: "ready", prices: prices.prices };
}

/** 503 UPSTREAM_UNAVAILABLE is how the payments API says Stripe is not configured. */
export function isBillingDisabledError(error: unknown): boolean {
  return error instanceof ApiError && error.code === "UPSTREAM_UNAVAILABLE" && error.details.reason === "not_configured";
}

export function billingFromError(error: unknown): BillingState {
  return isBillingDisabledError(error) ? { kind: "unavailable", reason: BILLING_UNAVAILABLE } : { kind: "error", error };
}
