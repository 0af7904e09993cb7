/**
 * The checkout success page's states, from GET /api/payments/session/{id}/ (which re-reads
 * the session from Stripe and fulfils it if paid). Pure, so the mapping is tested alone.
 */
import type { CheckoutSync } from "@/lib/api/schemas";
import { ApiError } from "@/lib/api/errors";
import { planName } from "@/lib/account";

export type CheckoutPhase =
  /** Fulfilled: the plan or the credits are on the account now. */
  | "paid"
  /** Paid or completing, not yet fulfilled (or a delayed payment method): poll again. */
  | "processing"
  /** Still processing after the page stopped polling: it will be credited when it clears. */
  | "delayed"
  /** The session expired or was never completed: nothing was charged. */
  | "not_paid"
  /** A delayed payment method failed after the checkout completed: nothing was credited. */
  | "failed"
  /** No session id in the address, or the session is not this account's. */
  | "unknown"
  /** The visitor is not signed in (the session belongs to an account). */
  | "signed_out"
  /** Billing is not configured, Stripe cannot be reached, or another failure. */
  | "error";

/** How many times the page asks again, and how long it waits before each (ms). */
export const POLL_DELAYS_MS = [1500, 2000, 3000, 4000, 5000, 7000];

export function phaseOfSync(sync: CheckoutSync, attemptsLeft: number): CheckoutPhase {
  if (sync.fulfilled) return "paid";
  if (sync.failed) return "failed";
  if (sync.status === "expired") return "not_paid";
  const paid = sync.payment_status === "paid" || sync.payment_status === "no_payment_required";
  // "complete" + "unpaid" is a delayed payment method (bank debit): it settles later.
  const pending = sync.status === "complete" || paid || sync.status === "open";
  if (!pending) return "not_paid";
  return attemptsLeft > 0 ? "processing" : sync.status === "open" ? "not_paid" : "delayed";
}

export function phaseOfError(error: unknown): CheckoutPhase {
  if (error instanceof ApiError) {
    if (error.code === "UNAUTHORIZED") return "signed_out";
    if (error.code === "NOT_FOUND" || error.code === "VALIDATION_ERROR") return "unknown";
  }
  return "error";
}

/** Whether the page should ask again after this answer. */
export function shouldPoll(phase: CheckoutPhase): boolean {
  return phase === "processing";
}

export type CheckoutView = { title: string; message: string };

export function describeCheckout(phase: CheckoutPhase, sync: CheckoutSync | null): CheckoutView {
  switch (phase) {
    case "paid":
      return sync?.mode === "subscription"
        ? {
            title: "Payment received",
            message: `Your plan is now ${planName(sync.plan)}. Your new limits apply from your next request.`,
          }
        : {
            title: "Payment received",
            message: "The credits are on your account and count from your next request.",
          };
    case "processing":
      return {
        title: "Processing your payment…",
        message: "Stripe is confirming the payment. This page updates by itself.",
      };
    case "delayed":
      return {
        title: "Payment still processing",
        message:
          "Some payment methods take a while to clear. Your plan or credits are added as soon as the payment clears; you can leave this page.",
      };
    case "not_paid":
      return {
        title: "Checkout not completed",
        message: "The checkout was not completed, so nothing was charged.",
      };
    case "failed":
      return {
        title: "Payment failed",
        message:
          "Your bank declined or reversed the payment, so nothing was added to your account. You can try again with another payment method.",
      };
    case "unknown":
      return {
        title: "Checkout not found",
        message: "This link does not name a checkout of your account.",
      };
    case "signed_out":
      return {
        title: "Sign in to see your purchase",
        message: "Log in to the account you paid with to see the result.",
      };
    case "error":
      return { title: "Could not check the payment", message: "Try again in a moment." };
  }
}
