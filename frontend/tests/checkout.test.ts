import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/api/errors";
import type { CheckoutSync } from "@/lib/api/schemas";
import { describeCheckout, phaseOfError, phaseOfSync, shouldPoll } from "@/lib/checkout";

function sync(overrides: Partial<CheckoutSync> = {}): CheckoutSync {
  return {
    id: "8f0c",
    session_id: "cs_test_1",
    url: "https://checkout.stripe.com/c/pay/cs_test_1",
    price_key: "credits_10",
    mode: "payment",
    status: "complete",
    payment_status: "paid",
    fulfilled: true,
    plan: "free",
    credits_usd: "10.000000",
    ...overrides,
  };
}

describe("the success page's states", () => {
  it("fulfilled is paid, whatever else", () => {
    expect(phaseOfSync(sync(), 3)).toBe("paid");
    expect(phaseOfSync(sync({ fulfilled: true, status: "open" }), 0)).toBe("paid");
  });

  it("paid but not yet fulfilled, or a delayed payment: processing while polls are left", () => {
    expect(phaseOfSync(sync({ fulfilled: false }), 2)).toBe("processing");
    expect(phaseOfSync(sync({ fulfilled: false, payment_status: "unpaid" }), 2)).toBe("processing");
    expect(shouldPoll("processing")).toBe(true);
  });

  it("still processing when the polls run out: delayed (credited once it clears)", () => {
    expect(phaseOfSync(sync({ fulfilled: false, payment_status: "unpaid" }), 0)).toBe("delayed");
    expect(shouldPoll("delayed")).toBe(false);
  });

  it("a failed delayed payment is said at once, without polling", () => {
    const failed = sync({ fulfilled: false, payment_status: "unpaid", failed: true });
    expect(phaseOfSync(failed, 5)).toBe("failed");
    expect(shouldPoll("failed")).toBe(false);
    expect(describeCheckout("failed", failed).title).toBe("Payment failed");
  });

  it("expired, or still open after the polls: nothing was charged", () => {
    expect(phaseOfSync(sync({ fulfilled: false, status: "expired", payment_status: "unpaid" }), 5)).toBe("not_paid");
    expect(phaseOfSync(sync({ fulfilled: false, status: "open", payment_status: "unpaid" }), 3)).toBe("processing");
    expect(phaseOfSync(sync({ fulfilled: false, status: "open", payment_status: "unpaid" }), 0)).toBe("not_paid");
  });

  it("errors: 401 asks for a login, 404 is not this account's checkout, others can be retried", () => {
    const body = (code: string) => ({ error: { code, message: code, details: {} } });
    expect(phaseOfError(ApiError.fromBody(401, body("UNAUTHORIZED")))).toBe("signed_out");
    expect(phaseOfError(ApiError.fromBody(404, body("NOT_FOUND")))).toBe("unknown");
    expect(phaseOfError(ApiError.fromBody(503, body("UPSTREAM_UNAVAILABLE")))).toBe("error");
    expect(phaseOfError(new Error("boom"))).toBe("error");
  });

  it("words: the new plan for a subscription, credits for a pack, 'updates by itself' while processing", () => {
    expect(describeCheckout("paid", sync({ mode: "subscription", plan: "pro" })).message).toContain("Your plan is now Pro");
    expect(describeCheckout("paid", sync()).message).toMatch(/credits/);
    expect(describeCheckout("processing", null).message).toMatch(/updates by itself/);
    expect(describeCheckout("not_paid", null).message).toMatch(/nothing was charged/);
  });
});
