import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/api/errors";
import type { Account, ApiKeyCreated as Created, PublicConfig } from "@/lib/api/schemas";
import { AppContext, type AppState } from "@/lib/app-context";

const apiMock = vi.hoisted(() => ({
  apiKeys: vi.fn(),
  createApiKey: vi.fn(),
  revokeApiKey: vi.fn(),
  register: vi.fn(),
  login: vi.fn(),
  prices: vi.fn(),
  startCheckout: vi.fn(),
  billingPortal: vi.fn(),
  requestPasswordReset: vi.fn(),
}));
const leaveTo = vi.hoisted(() => vi.fn());
vi.mock("@/lib/api", () => ({ api: apiMock }));
vi.mock("@/lib/navigate", () => ({ leaveTo }));

import { ApiKeyCreated } from "@/components/api-key-created";
import { ApiKeys } from "@/components/api-keys";
import { LoginForm, RegisterForm } from "@/components/auth-forms";
import { BillingSection } from "@/components/billing-section";

afterEach(cleanup);
beforeEach(() => {
  for (const fn of Object.values(apiMock)) fn.mockReset();
  leaveTo.mockReset();
});

const CREATED: Created = {
  id: "k1",
  name: "laptop",
  prefix: "isk_AbCdEfGh",
  created_at: "2026-11-21T10:00:00Z",
  revoked_at: null,
  key: "isk_AbCdEfGh_the-whole-secret-0123456789",
};

const ACCOUNT: Account = {
  id: "a1",
  email: "ada@example.com",
  plan: "free",
  email_verified: false,
  client_id: "c1",
  credits_usd: "0.000000",
  limits: { plan: "free", daily_usd: "1", max_call_usd: "0.10", requests_per_minute: 20, max_concurrent: 4, with_credits: null },
  created_at: "2026-11-21T10:00:00Z",
};

function withConfig(config: Partial<PublicConfig>, children: ReactNode) {
  const state: AppState = {
    ready: true,
    me: { client_id: "c1", plan: "free", via: "session" },
    config: { default_model: "offline", offline: true, posthog: null, billing_enabled: false, ...config },
    account: ACCOUNT,
    error: null,
    retry: () => {},
    refreshIdentity: async () => {},
    setAccount: () => {},
  };
  return <AppContext.Provider value={state}>{children}</AppContext.Provider>;
}

function validation(field: string, message: string) {
  return ApiError.fromBody(400, {
    error: { code: "VALIDATION_ERROR", message: `${field}: ${message}`, details: { fields: { [field]: [message] } } },
  });
}

describe("ApiKeyCreated", () => {
  it("shows the key once with a copy button and says it will not be shown again", async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const onDone = vi.fn();
    render(<ApiKeyCreated created={CREATED} onDone={onDone} />);

    expect((screen.getByTestId("api-key-secret") as HTMLInputElement).value).toBe(CREATED.key);
    expect(screen.getByTestId("api-key-warning").textContent).toMatch(/you will not see it again/i);
    expect(document.activeElement?.id).toBe("key-created-heading");

    fireEvent.click(screen.getByRole("button", { name: "Copy key" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toMatch(/Copied/));
    expect(writeText).toHaveBeenCalledWith(CREATED.key);

    fireEvent.click(screen.getByRole("button", { name: /Done/ }));
    expect(onDone).toHaveBeenCalled();
  });

  it("without clipboard access the key is selected for copying by hand", async () => {
    Object.defineProperty(navigator, "clipboard", { value: undefined, configurable: true });
    render(<ApiKeyCreated created={CREATED} onDone={() => {}} />);
    fireEvent.click(screen.getByRole("button", { name: "Copy key" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toMatch(/Ctrl\+C/));
    expect(document.activeElement).toBe(screen.getByTestId("api-key-secret"));
  });
});

describe("ApiKeys", () => {
  it("creates a key, shows it once, then lists it by prefix only", async () => {
    apiMock.apiKeys.mockResolvedValue([]);
    apiMock.createApiKey.mockResolvedValue(CREATED);
    render(<ApiKeys />);
    await screen.findByText("No API keys yet.");

    fireEvent.change(screen.getByLabelText("Key name"), { target: { value: " laptop " } });
    fireEvent.click(screen.getByRole("button", { name: "Create key" }));
    await screen.findByTestId("api-key-created");
    expect(apiMock.createApiKey).toHaveBeenCalledWith("laptop");
    const item = screen.getByTestId("api-key-item");
    expect(item.textContent).toContain("isk_AbCdEfGh…");
    expect(item.textContent).not.toContain(CREATED.key);

    fireEvent.click(screen.getByRole("button", { name: /Done/ }));
    expect(screen.queryByTestId("api-key-created")).toBeNull();
    expect(document.body.innerHTML).not.toContain(CREATED.key);
  });

  it("revokes after a confirmation", async () => {
    const { key: _key, ...listed } = CREATED;
    void _key;
    apiMock.apiKeys.mockResolvedValue([listed]);
    apiMock.revokeApiKey.mockResolvedValue({ ...listed, revoked_at: "2026-11-22T10:00:00Z" });
    render(<ApiKeys />);
    fireEvent.click(await screen.findByRole("button", { name: "Revoke laptop" }));
    expect(apiMock.revokeApiKey).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "Revoke now" }));
    await waitFor(() => expect(screen.getByTestId("api-key-item").dataset.revoked).toBe("true"));
    expect(apiMock.revokeApiKey).toHaveBeenCalledWith("k1");
  });

  it("a name the backend refuses is explained under the field", async () => {
    apiMock.apiKeys.mockResolvedValue([]);
    apiMock.createApiKey.mockRejectedValue(validation("name", "Ensure this field has no more than 100 characters."));
    render(<ApiKeys />);
    fireEvent.change(screen.getByLabelText("Key name"), { target: { value: "x" } });
    fireEvent.click(screen.getByRole("button", { name: "Create key" }));
    const error = await screen.findByTestId("field-error");
    expect(error.textContent).toBe("Key name: Ensure this field has no more than 100 characters.");
    expect(screen.getByLabelText("Key name").getAttribute("aria-invalid")).toBe("true");
  });
});

describe("RegisterForm and LoginForm", () => {
  it("register: the error goes under the field it names, which gets the focus", async () => {
    apiMock.register.mockRejectedValue(validation("password", "This password is too common."));
    const onSignedIn = vi.fn();
    render(<RegisterForm onSignedIn={onSignedIn} />);
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "ada@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "password" } });
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));

    const error = await screen.findByTestId("field-error");
    expect(error.dataset.field).toBe("password");
    expect(error.textContent).toBe("Password: This password is too common.");
    const input = screen.getByLabelText("Password");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(input.getAttribute("aria-describedby")).toContain(error.id);
    expect(document.activeElement).toBe(input);
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it("register: success hands the account over", async () => {
    apiMock.register.mockResolvedValue({ account: ACCOUNT });
    const onSignedIn = vi.fn();
    render(<RegisterForm onSignedIn={onSignedIn} />);
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: " ada@example.com " } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "Strong-Password-1" } });
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    await waitFor(() => expect(onSignedIn).toHaveBeenCalledWith(ACCOUNT));
    expect(apiMock.register).toHaveBeenCalledWith({ email: "ada@example.com", password: "Strong-Password-1" });
  });

  it("login: a wrong password is said in the backend's words", async () => {
    apiMock.login.mockRejectedValue(
      ApiError.fromBody(401, { error: { code: "UNAUTHORIZED", message: "The email or password is not correct.", details: {} } }),
    );
    render(<LoginForm onSignedIn={() => {}} />);
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "ada@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "nope" } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect((await screen.findByTestId("form-error")).textContent).toBe("The email or password is not correct.");
  });

  it("forgot password: opens a form and confirms without saying whether the address exists", async () => {
    apiMock.login.mockResolvedValue({ account: ACCOUNT });
    apiMock.requestPasswordReset.mockResolvedValue(null);
    render(<LoginForm onSignedIn={() => {}} />);
    const toggle = screen.getByRole("button", { name: "Forgot your password?" });
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    fireEvent.click(toggle);
    fireEvent.change(screen.getByLabelText("Email for the reset link"), { target: { value: "ada@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Send reset link" }));
    await screen.findByText(/If an account uses ada@example.com/);
    expect(apiMock.requestPasswordReset).toHaveBeenCalledWith("ada@example.com");
  });
});

describe("BillingSection", () => {
  it("billing disabled: says so plainly and offers nothing to buy", () => {
    render(withConfig({ billing_enabled: false }, <BillingSection account={ACCOUNT} />));
    expect(screen.getByTestId("billing-unavailable").textContent).toMatch(/not available/);
    expect(screen.queryByRole("button", { name: /^Buy/ })).toBeNull();
    expect(apiMock.prices).not.toHaveBeenCalled();
  });

  it("503 not configured from the prices endpoint: unavailable too", async () => {
    apiMock.prices.mockRejectedValue(
      ApiError.fromBody(503, {
        error: { code: "UPSTREAM_UNAVAILABLE", message: "Billing is not configured", details: { reason: "not_configured" } },
      }),
    );
    render(withConfig({ billing_enabled: true }, <BillingSection account={ACCOUNT} />));
    await screen.findByTestId("billing-unavailable");
    expect(screen.queryByRole("button", { name: /^Buy/ })).toBeNull();
  });

  it("Buy opens Checkout with a fresh Idempotency-Key per click", async () => {
    apiMock.prices.mockResolvedValue({
      enabled: true,
      prices: [
        { price_key: "pro_monthly", mode: "subscription", plan: "pro", credits_usd: null },
        { price_key: "credits_10", mode: "payment", plan: null, credits_usd: "10" },
      ],
    });
    apiMock.startCheckout.mockRejectedValueOnce(new TypeError("Failed to fetch"));
    apiMock.startCheckout.mockResolvedValueOnce({ url: "https://checkout.stripe.com/c/pay/cs_1" });
    render(withConfig({ billing_enabled: true }, <BillingSection account={ACCOUNT} />));

    const buy = await screen.findByRole("button", { name: "Buy $10.00 of credits" });
    fireEvent.click(buy);
    await screen.findByTestId("error-banner");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Buy $10.00 of credits" }));
    });
    await waitFor(() => expect(leaveTo).toHaveBeenCalledWith("https://checkout.stripe.com/c/pay/cs_1"));
    const [first, second] = apiMock.startCheckout.mock.calls;
    expect(first[0]).toBe("credits_10");
    expect(first[1]).not.toBe(second[1]);
    expect(screen.queryByRole("button", { name: "Manage subscription" })).toBeNull();
  });

  it("a Pro account: no second subscription to buy, and the portal to manage it", async () => {
    apiMock.prices.mockResolvedValue({
      enabled: true,
      prices: [{ price_key: "pro_monthly", mode: "subscription", plan: "pro", credits_usd: null }],
    });
    apiMock.billingPortal.mockResolvedValue({ url: "https://billing.stripe.com/p/session/x" });
    render(withConfig({ billing_enabled: true }, <BillingSection account={{ ...ACCOUNT, plan: "pro" }} />));
    await screen.findByText("Your plan", { selector: ".badge" });
    expect(screen.queryByRole("button", { name: /^Buy/ })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Manage subscription" }));
    await waitFor(() => expect(leaveTo).toHaveBeenCalledWith("https://billing.stripe.com/p/session/x"));
  });
});
