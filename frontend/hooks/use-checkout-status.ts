"use client";
/**
 * The success page's view of a Checkout Session: GET /api/payments/session/{id}/ (which
 * re-syncs from Stripe and fulfils a paid session), asked again a few times while the
 * payment is still processing (lib/checkout.ts decides).
 */
import { useEffect, useState } from "react";
import { api } from "@/lib/api";
import type { CheckoutSync } from "@/lib/api/schemas";
import { POLL_DELAYS_MS, phaseOfError, phaseOfSync, shouldPoll, type CheckoutPhase } from "@/lib/checkout";

export type CheckoutStatus = {
  phase: CheckoutPhase | "loading";
  sync: CheckoutSync | null;
  error: unknown;
  /** How many times the page has asked. */
  checks: number;
};

export function useCheckoutStatus(
  sessionId: string | null,
  opts: { delaysMs?: readonly number[]; attempt?: number } = {},
): CheckoutStatus {
  const delays = opts.delaysMs ?? POLL_DELAYS_MS;
  const [status, setStatus] = useState<CheckoutStatus>({
    phase: sessionId ? "loading" : "unknown",
    sync: null,
    error: null,
    checks: 0,
  });

  useEffect(() => {
    if (!sessionId) {
      setStatus({ phase: "unknown", sync: null, error: null, checks: 0 });
      return;
    }
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setStatus({ phase: "loading", sync: null, error: null, checks: 0 });

    const check = async (index: number) => {
      try {
        const sync = await api.checkoutStatus(sessionId);
        if (cancelled) return;
        const phase = phaseOfSync(sync, delays.length - index);
        setStatus({ phase, sync, error: null, checks: index + 1 });
        if (shouldPoll(phase)) timer = setTimeout(() => void check(index + 1), delays[index]);
      } catch (error) {
        if (cancelled) return;
        setStatus((previous) => ({ phase: phaseOfError(error), sync: previous.sync, error, checks: index + 1 }));
      }
    };
    void check(0);
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [sessionId, delays, opts.attempt]);

  return status;
}
