import { act, cleanup, render, renderHook, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/api/errors";
import type { CheckoutSync } from "@/lib/api/schemas";

const apiMock = vi.hoisted(() => ({ checkoutStatus: vi.fn(), account: vi.fn() }));
const search = vi.hoisted(() => ({ params: new URLSearchParams() }));
vi.mock("@/lib/api", () => ({ api: apiMock }));
vi.mock("next/navigation", () => ({ useSearchParams: () => search.params }));

import { useCheckoutStatus } from "@/hooks/use-checkout-status";
import { BillingSuccessScreen } from "@/components/billing-success-screen";

const PENDING: CheckoutSync = {
  id: "1",
  session_id: "cs_1",
  url: "https://checkout.stripe.com/x",
  price_key: "credits_10",
  mode: "payment",
  status: "complete",
  payment_status: "unpaid",
  fulfilled: false,
  plan: "free",
  credits_usd: "0.000000",
};
const PAID: CheckoutSync = { ...PENDING, payment_status: "paid", fulfilled: true, credits_usd: "10.000000" };

async function flush() {
  await act(async () => {
    await Promise.resolve();
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  apiMock.checkoutStatus.mockReset();
  apiMock.account.mockReset();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("useCheckoutStatus", () => {
  it("asks again while processing, and stops once paid", async () => {
    apiMock.checkoutStatus.mockResolvedValueOnce(PENDING).mockResolvedValueOnce(PENDING).mockResolvedValue(PAID);
    const delays = [100, 100, 100, 100];
    const { result } = renderHook(() => useCheckoutStatus("cs_1", { delaysMs: delays }));
    await flush();
    expect(result.current.phase).toBe("processing");
    await act(async () => {
      await vi.advanceTimersByTimeAsync(100);
    });
    expect(result.current.checks).toBe(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(100);
    });
    expect(result.current.phase).toBe("paid");
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(apiMock.checkoutStatus).toHaveBeenCalledTimes(3);
    expect(apiMock.checkoutStatus).toHaveBeenCalledWith("cs_1");
  });

  it("gives up after a few tries: delayed, not an endless spinner", async () => {
    apiMock.checkoutStatus.mockResolvedValue(PENDING);
    const delays = [50, 50];
    const { result } = renderHook(() => useCheckoutStatus("cs_1", { delaysMs: delays }));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(result.current.phase).toBe("delayed");
    expect(apiMock.checkoutStatus).toHaveBeenCalledTimes(3);
  });

  it("no session id: unknown, nothing asked", () => {
    const { result } = renderHook(() => useCheckoutStatus(null));
    expect(result.current.phase).toBe("unknown");
    expect(apiMock.checkoutStatus).not.toHaveBeenCalled();
  });
});

describe("BillingSuccessScreen", () => {
  it("paid: shows the plan and the credits now", async () => {
    search.params = new URLSearchParams("session_id=cs_1");
    apiMock.checkoutStatus.mockResolvedValue(PAID);
    apiMock.account.mockResolvedValue(null);
    render(<BillingSuccessScreen />);
    await flush();
    expect(screen.getByTestId("checkout-result").dataset.phase).toBe("paid");
    expect(screen.getByText("Payment received")).toBeTruthy();
    expect(screen.getByTestId("checkout-credits").textContent).toBe("$10.00");
    expect(screen.getByTestId("checkout-plan").textContent).toBe("Free");
    expect(apiMock.account).toHaveBeenCalled();
  });

  it("signed out: asks for a login", async () => {
    search.params = new URLSearchParams("session_id=cs_1");
    apiMock.checkoutStatus.mockRejectedValue(
      ApiError.fromBody(401, { error: { code: "UNAUTHORIZED", message: "Sign in", details: {} } }),
    );
    render(<BillingSuccessScreen />);
    await flush();
    expect(screen.getByTestId("checkout-result").dataset.phase).toBe("signed_out");
    expect(screen.getByText("Sign in to see your purchase")).toBeTruthy();
  });
});
