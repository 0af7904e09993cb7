import { afterEach, describe, expect, it, vi } from "vitest";
import { api, filenameFromDisposition } from "@/lib/api";
import { ApiError } from "@/lib/api/errors";
import type { AccountLimits, Price } from "@/lib/api/schemas";
import {
  canBuy,
  formatUsd,
  isSignedIn,
  limitRows,
  newIdempotencyKey,
  planName,
  priceAmount,
  priceTitle,
} from "@/lib/account";
import { billingFromConfig, billingFromError, billingFromPrices } from "@/lib/billing";

afterEach(() => vi.unstubAllGlobals());

const PRO: Price = { price_key: "pro_monthly", mode: "subscription", plan: "pro", credits_usd: null };
const PACK: Price = { price_key: "credits_10", mode: "payment", plan: null, credits_usd: "10" };

describe("account words", () => {
  it("formats dollars: cents, small amounts kept, negatives, missing", () => {
    expect(formatUsd("1")).toBe("$1.00");
    expect(formatUsd("0.000000")).toBe("$0.00");
    expect(formatUsd("0.000123")).toBe("$0.000123");
    expect(formatUsd("-2.5")).toBe("−$2.50");
    expect(formatUsd(null)).toBe("—");
  });

  it("lists the guard's limits, with credits when the plan allows them", () => {
    const limits: AccountLimits = {
      plan: "free",
      daily_usd: "1",
      max_call_usd: "0.10",
      requests_per_minute: 20,
      max_concurrent: 4,
      with_credits: { daily_usd: "50", max_call_usd: "1" },
    };
    expect(limitRows(limits)).toEqual([
      { label: "Daily AI budget", value: "$1.00 per day (UTC)" },
      { label: "Largest single request", value: "$0.10" },
      { label: "Requests per minute", value: "20" },
      { label: "Simultaneous runs", value: "4" },
      { label: "With credits", value: "up to $50.00 per day, $1.00 per request" },
    ]);
    expect(limitRows({ ...limits, daily_usd: null, with_credits: null })[0].value).toBe("No daily limit");
  });

  it("names plans and prices; no second Pro subscription", () => {
    expect(planName("free")).toBe("Free");
    expect(planName("team")).toBe("Team");
    expect(priceTitle(PRO)).toBe("Pro plan");
    expect(priceTitle(PACK)).toBe("$10.00 of credits");
    expect(canBuy(PRO, "free")).toBe(true);
    expect(canBuy(PRO, "pro")).toBe(false);
    expect(canBuy(PACK, "pro")).toBe(true);
  });

  it("shows Stripe's amount: minor units, intervals, zero-decimal currencies, unknown", () => {
    expect(priceAmount({ ...PRO, amount: { unit_amount: 900, currency: "usd", interval: "month" } })).toBe(
      "$9.00 / month",
    );
    expect(priceAmount({ ...PACK, amount: { unit_amount: 1000, currency: "eur", interval: null } })).toBe("€10.00");
    expect(priceAmount({ ...PACK, amount: { unit_amount: 1500, currency: "jpy", interval: null } })).toBe("¥1,500");
    expect(priceAmount(PACK)).toBeNull();
    expect(priceAmount({ ...PACK, amount: null })).toBeNull();
  });

  it("signed in means the session cookie (or a JWT), not a visitor's client cookie", () => {
    expect(isSignedIn({ via: "session" })).toBe(true);
    expect(isSignedIn({ via: "cookie" })).toBe(false);
    expect(isSignedIn(null)).toBe(false);
  });

  it("a fresh UUID per checkout click", () => {
    const keys = new Set(Array.from({ length: 50 }, newIdempotencyKey));
    expect(keys.size).toBe(50);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("reads the export's file name", () => {
    expect(filenameFromDisposition('attachment; filename="insightstream-account-1.json"')).toBe(
      "insightstream-account-1.json",
    );
    expect(filenameFromDisposition("attachment; filename*=UTF-8''a%20b.json")).toBe("a b.json");
    expect(filenameFromDisposition(null)).toBeNull();
  });
});

describe("billing availability", () => {
  it("off in the config, off at the prices endpoint, or 503 not configured: unavailable", () => {
    expect(billingFromConfig(false)?.kind).toBe("unavailable");
    expect(billingFromConfig(true)).toBeNull();
    expect(billingFromPrices({ enabled: false, prices: [] }).kind).toBe("unavailable");
    const off = ApiError.fromBody(503, {
      error: { code: "UPSTREAM_UNAVAILABLE", message: "Billing is not configured", details: { service: "stripe", reason: "not_configured" } },
    });
    expect(billingFromError(off).kind).toBe("unavailable");
    // Stripe unreachable is an error to retry, not "billing is off".
    const down = ApiError.fromBody(503, { error: { code: "UPSTREAM_UNAVAILABLE", message: "down", details: { service: "stripe" } } });
    expect(billingFromError(down).kind).toBe("error");
    expect(billingFromPrices({ enabled: true, prices: [PRO] })).toEqual({ kind: "ready", prices: [PRO] });
  });
});

describe("account API calls", () => {
  it("register asks for the session cookie and sends the anti-forgery header; tokens are dropped", async () => {
    const fetchMock = vi.fn(async () =>
      new Response(
        JSON.stringify({
          account: {
            id: "a1",
            email: "a@example.com",
            plan: "free",
            email_verified: false,
            client_id: "c1",
            credits_usd: "0.000000",
            limits: { plan: "free", daily_usd: "1", max_call_usd: "0.10", requests_per_minute: 20, max_concurrent: 4, with_credits: null },
            created_at: "2026-01-01T00:00:00Z",
          },
          tokens: { access: "secret-access", refresh: "secret-refresh" },
        }),
        { status: 201 },
      ),
    );
    vi.stubGlobal("fetch", fetchMock);
    const result = await api.register({ email: "a@example.com", password: "pw" });
    expect(result).toEqual({ account: expect.objectContaining({ email: "a@example.com" }) });
    expect(JSON.stringify(result)).not.toContain("secret");
    const [path, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe("/api/accounts/register/");
    expect(JSON.parse(String(init.body))).toEqual({ email: "a@example.com", password: "pw", session: true });
    expect(new Headers(init.headers).get("X-Requested-With")).toBe("fetch");
  });

  it("checkout sends the Idempotency-Key; a 202 without a body is fine", async () => {
    const fetchMock = vi.fn(async (path: string, _init?: RequestInit) =>
      path.includes("resend")
        ? new Response(null, { status: 202 })
        : new Response(
            JSON.stringify({
              id: "x",
              session_id: "cs_1",
              url: "https://checkout.stripe.com/x",
              price_key: "credits_10",
              mode: "payment",
              status: "open",
              payment_status: "unpaid",
              fulfilled: false,
            }),
            { status: 201 },
          ),
    );
    vi.stubGlobal("fetch", fetchMock);
    await expect(api.resendVerification()).resolves.toBeNull();
    const session = await api.startCheckout("credits_10", "key-1");
    expect(session.url).toBe("https://checkout.stripe.com/x");
    const init = fetchMock.mock.calls[1][1];
    expect(new Headers(init?.headers).get("Idempotency-Key")).toBe("key-1");
  });
});
