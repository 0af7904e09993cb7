import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { accountSchema, type Account } from "@/lib/api/schemas";

vi.mock("@/lib/api", () => ({ api: { resendVerification: vi.fn() } }));

import { AccountSummary } from "@/components/account-summary";

afterEach(cleanup);

// What GET /api/accounts/me/ answers for a new, unverified free account.
const UNVERIFIED = accountSchema.parse({
  id: "a1",
  email: "ada@example.com",
  plan: "free",
  email_verified: false,
  client_id: "c1",
  credits_usd: "0.000000",
  limits: {
    plan: "anonymous",
    until_email_verified: true,
    daily_usd: "0.05",
    max_call_usd: "0.02",
    requests_per_minute: 20,
    max_concurrent: 4,
    with_credits: null,
  },
  created_at: "2026-11-21T10:00:00Z",
});

const VERIFIED: Account = {
  ...UNVERIFIED,
  email_verified: true,
  limits: { ...UNVERIFIED.limits, plan: "free", until_email_verified: false, daily_usd: "1" },
};

describe("AccountSummary limits", () => {
  it("says an unverified account has a visitor's limits until the email is verified", () => {
    render(<AccountSummary account={UNVERIFIED} onLogout={async () => {}} />);
    expect(screen.getByTestId("limits-until-verified").textContent).toMatch(
      /Until you verify your email you have a visitor's limits.*Free plan's/,
    );
    expect(screen.getByTestId("account-limits").textContent).toContain("$0.05 per day");
    expect(screen.getByTestId("email-unverified")).toBeTruthy();
  });

  it("shows the plan's own limits once verified, without the note", () => {
    render(<AccountSummary account={VERIFIED} onLogout={async () => {}} />);
    expect(screen.queryByTestId("limits-until-verified")).toBeNull();
    expect(screen.getByTestId("account-limits").textContent).toContain("$1.00 per day");
  });
});
