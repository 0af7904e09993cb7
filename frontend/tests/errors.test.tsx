import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "@/lib/api/errors";
import { describeError, formatWait } from "@/lib/errors";
import { ErrorBanner } from "@/components/error-banner";

afterEach(cleanup);

const budgetBody = {
  error: {
    code: "BUDGET_EXCEEDED",
    message: "Your daily AI budget is used up. It resets at midnight UTC; use an API key or upgrade your plan for a larger daily budget.",
    details: { bucket: "client", plan: "anonymous", limit_usd: "0.050000", remaining_usd: "0.000000", window: "2026-11-21" },
  },
};

describe("describeError", () => {
  it("400 CONTENT_REJECTED: says it was not sent, why, and to rephrase", () => {
    const body = {
      error: {
        code: "CONTENT_REJECTED",
        message: "The message was not sent: it looks like a threat of violence.",
        details: { field: "content", category: "harassment/threatening" },
      },
    };
    const view = describeError(ApiError.fromBody(400, body));
    expect(view.code).toBe("CONTENT_REJECTED");
    expect(view.title).toBe("Not sent");
    expect(view.message).toContain("(harassment threatening)");
    expect(view.action).toMatch(/Rephrase/);
  });

  it("402: names the limit that was hit and how to raise it", async () => {
    const response = new Response(JSON.stringify(budgetBody), { status: 402 });
    const view = describeError(await ApiError.fromResponse(response));
    expect(view.code).toBe("BUDGET_EXCEEDED");
    expect(view.title).toMatch(/limit/);
    expect(view.message).toContain("your daily AI budget limit of $0.05 (UTC day 2026-11-21)");
    expect(view.action).toContain("API key");
    expect(view.link).toEqual({ href: "/account", label: "Use an API key or upgrade" });
    expect(describeError(ApiError.fromBody(402, budgetBody), { billingEnabled: true }).link?.label).toBe(
      "Upgrade your plan",
    );
  });

  it("402 for a visitor: an account first (sign up), with or without billing", () => {
    const visitor = describeError(ApiError.fromBody(402, budgetBody), { signedIn: false });
    expect(visitor.action).toMatch(/Create a free account/);
    expect(visitor.action).toContain("API key");
    expect(visitor.link).toEqual({ href: "/account", label: "Sign up for a larger budget" });
    const withBilling = describeError(ApiError.fromBody(402, budgetBody), { signedIn: false, billingEnabled: true });
    expect(withBilling.link?.label).toBe("Sign up or upgrade");
    const member = describeError(ApiError.fromBody(402, budgetBody), { signedIn: true, billingEnabled: true });
    expect(member.link?.label).toBe("Upgrade your plan");
  });

  it("402 from the AI SDK (the body as the Error's message) is understood too", () => {
    const view = describeError(new Error(JSON.stringify(budgetBody)));
    expect(view.code).toBe("BUDGET_EXCEEDED");
    expect(view.message).toContain("daily AI budget limit");
  });

  it("402 of the global budget: no upgrade, it resets", () => {
    const body = { error: { code: "BUDGET_EXCEEDED", message: "The service's daily AI budget is used up.", details: { bucket: "global" } } };
    const view = describeError(ApiError.fromBody(402, body));
    expect(view.link).toBeUndefined();
    expect(view.action).toContain("midnight UTC");
  });

  it("429: when to retry, from Retry-After or details", async () => {
    const response = new Response(
      JSON.stringify({ error: { code: "RATE_LIMITED", message: "Slow down.", details: { retry_after_s: 12 } } }),
      { status: 429, headers: { "Retry-After": "30" } },
    );
    const view = describeError(await ApiError.fromResponse(response));
    expect(view).toMatchObject({ code: "RATE_LIMITED", retryAfterS: 30, action: "Try again in 30 s." });
    const fromDetails = ApiError.fromBody(429, { error: { code: "RATE_LIMITED", message: "x", details: { retry_after_s: 125 } } });
    expect(describeError(fromDetails).action).toBe("Try again in 3 min.");
  });

  it("503: the service is unavailable", () => {
    const view = describeError(
      ApiError.fromBody(503, { error: { code: "AI_SERVICE_UNAVAILABLE", message: "No AI model can be reached.", details: {} } }),
    );
    expect(view.title).toBe("Service unavailable");
    expect(view.message).toMatch(/unavailable/);
    expect(describeError(ApiError.fromBody(503, null)).code).toBe("AI_SERVICE_UNAVAILABLE");
  });

  it("a stream's error part (CODE: message) and a lost connection", () => {
    expect(describeError(new Error("RUN_TIMEOUT: the run took longer than 300 s")).code).toBe("RUN_TIMEOUT");
    expect(describeError(new TypeError("Failed to fetch")).code).toBe("NETWORK_ERROR");
    expect(describeError("weird").code).toBe("UNKNOWN");
  });

  it("formats waits", () => {
    expect(formatWait(0.2)).toBe("1 s");
    expect(formatWait(59)).toBe("59 s");
    expect(formatWait(3600)).toBe("1 h");
    expect(formatWait(3700)).toBe("1 h 2 min");
  });
});

describe("ErrorBanner", () => {
  it("is an alert with the code, the limit and a link to raise it", () => {
    render(<ErrorBanner error={ApiError.fromBody(402, budgetBody)} />);
    const banner = screen.getByRole("alert");
    expect(banner.dataset.testid).toBe("error-banner");
    expect(banner.dataset.code).toBe("BUDGET_EXCEEDED");
    expect(banner.textContent).toContain("limit");
    expect(screen.getByRole("link", { name: /API key/ }).getAttribute("href")).toBe("/account");
  });
});
