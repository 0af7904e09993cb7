// An anonymous visitor chats, then signs up on /account: the plan and limits show, an API
// key is shown once and then listed without its secret, the login survives a reload, the
// earlier chat now belongs to the account, billing says it is unavailable (no Stripe here),
// and logging out and in again works.
import assert from "node:assert/strict";
import { test } from "node:test";

import { eventually, screenshot, sendChat, withPage } from "./lib.mjs";

const PASSWORD = "Espresso-Tamper-42-Grinder";

async function pageText(page) {
  // The markup too: an input's value is not part of innerText.
  return `${await page.evaluate(() => document.body.innerText)}\n${await page.content()}`;
}

test("sign up keeps the visitor's chat; an API key is shown once; billing is unavailable", async () => {
  await withPage(async (page) => {
    // An anonymous visitor with one finished chat.
    await page.goto("/chat");
    await sendChat(page, "Give me hashtags for a sourdough baking channel");
    await page.getByTestId("assistant-answer").first().waitFor({ timeout: 30_000 });
    await eventually(
      async () => (await page.getByRole("button", { name: "Stop" }).count()) === 0,
      "the run to finish",
      60_000,
    );
    const sessionId = new URL(page.url()).searchParams.get("session");
    assert.match(sessionId ?? "", /^[0-9a-f-]{36}$/);

    // Signed out: the header says "Account", /account offers sign-up and login.
    const navAccount = page.getByTestId("nav-account");
    assert.equal(await navAccount.getAttribute("data-signed-in"), "false");
    await navAccount.click();
    await page.waitForURL(/\/account$/);
    const register = page.getByTestId("register-form");
    await register.waitFor();
    await page.getByTestId("login-form").waitFor();

    // A weak password: the error sits under the password field and names it.
    const email = `e2e-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
    await register.getByLabel("Email").fill(email);
    await register.getByLabel("Password").fill("password");
    await register.getByRole("button", { name: "Create account" }).click();
    const fieldError = register.locator('[data-testid="field-error"][data-field="password"]');
    await fieldError.waitFor();
    assert.match(await fieldError.innerText(), /^Password: /);
    assert.equal(await register.getByLabel("Password").getAttribute("aria-invalid"), "true");
    assert.equal(
      await page.evaluate(() => document.activeElement?.id),
      "register-password",
      "the focus moves to the field with the error",
    );

    // A strong password signs up and in.
    await register.getByLabel("Password").fill(PASSWORD);
    await register.getByRole("button", { name: "Create account" }).click();
    const summary = page.getByTestId("account-summary");
    await summary.waitFor();
    assert.equal(await page.getByTestId("account-email").innerText(), email);
    assert.equal(await page.getByTestId("account-plan").getAttribute("data-plan"), "free");
    await page.getByTestId("email-unverified").waitFor();
    assert.match(await page.getByTestId("account-limits").innerText(), /Daily AI budget/);
    await eventually(
      async () => (await navAccount.getAttribute("data-signed-in")) === "true",
      "the header to show the account",
    );
    assert.equal(await navAccount.getAttribute("title"), email);

    // Billing is not configured on this server: said plainly, nothing to buy.
    const billing = page.getByTestId("billing");
    await billing.getByTestId("billing-unavailable").waitFor();
    assert.match(await billing.innerText(), /not available/i);
    assert.equal(await page.getByRole("button", { name: /^Buy/ }).count(), 0, "no Buy buttons");
    await page.getByTestId("credits-ledger").waitFor();

    // An API key: shown once with a copy button and the warning, then listed without it.
    await page.getByLabel("Key name").fill("e2e script");
    await page.getByRole("button", { name: "Create key" }).click();
    const created = page.getByTestId("api-key-created");
    await created.waitFor();
    const secret = await page.getByTestId("api-key-secret").inputValue();
    assert.match(secret, /^isk_\S{20,}$/);
    assert.match(await created.innerText(), /you will not see it again/i);
    await created.getByRole("button", { name: /Copy/ }).waitFor();
    const item = page.getByTestId("api-key-item").filter({ hasText: "e2e script" });
    await item.waitFor();
    assert.equal(await item.getAttribute("data-revoked"), "false");
    await created.getByRole("button", { name: /Done/ }).click();
    await eventually(async () => (await created.count()) === 0, "the key panel to close");
    assert.ok(!(await pageText(page)).includes(secret), "the secret is gone from the page");
    const listed = await item.innerText();
    assert.ok(listed.includes(secret.slice(0, 8)), `listed by its prefix: ${listed}`);
    await screenshot(page, "account");

    // Still signed in after a reload; the key is listed (by prefix) and the secret is not.
    await page.reload();
    await summary.waitFor();
    assert.equal(await page.getByTestId("account-email").innerText(), email);
    await page.getByTestId("api-key-item").filter({ hasText: "e2e script" }).waitFor();
    assert.ok(!(await pageText(page)).includes(secret));

    // The chat from before signing up now belongs to the account.
    await page.goto("/chat");
    await page
      .locator(`[data-testid="session-item"][data-session-id="${sessionId}"]`)
      .waitFor({ timeout: 15_000 });

    // Log out: back to the forms, the header says "Account" again.
    await page.goto("/account");
    await summary.getByRole("button", { name: "Log out" }).click();
    await page.getByTestId("register-form").waitFor();
    assert.match(await page.getByTestId("account-notice").innerText(), /logged out/i);
    await eventually(
      async () => (await navAccount.getAttribute("data-signed-in")) === "false",
      "the header to show signed out",
    );

    // A wrong password is refused with the backend's words; the right one logs in.
    const login = page.getByTestId("login-form");
    await login.getByLabel("Email").fill(email);
    await login.getByLabel("Password").fill("not-the-password");
    await login.getByRole("button", { name: "Log in" }).click();
    await login.getByTestId("form-error").waitFor();
    assert.match(await login.getByTestId("form-error").innerText(), /not correct/i);
    await login.getByLabel("Password").fill(PASSWORD);
    await login.getByRole("button", { name: "Log in" }).click();
    await summary.waitFor();
    assert.equal(await page.getByTestId("account-email").innerText(), email);
    await summary.getByRole("button", { name: "Log out" }).click();
    await page.getByTestId("register-form").waitFor();
  });
});

test("the account page works at a phone's width", async () => {
  await withPage(
    async (page) => {
      await page.goto("/account");
      await page.getByTestId("register-form").waitFor();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `page is ${width}px wide at a 375px viewport`);
      // The header keeps the account link on screen.
      const box = await page.getByTestId("nav-account").boundingBox();
      assert.ok(box && box.x + box.width <= 375, `account link at ${JSON.stringify(box)}`);
      await screenshot(page, "account-phone");
    },
    { viewport: { width: 375, height: 740 } },
  );
});

test("the checkout pages: cancelled says nothing was charged; success without a session says so", async () => {
  await withPage(async (page) => {
    await page.goto("/billing/cancel");
    const cancelled = page.getByTestId("checkout-cancelled");
    await cancelled.waitFor();
    assert.match(await cancelled.innerText(), /nothing was charged/i);
    await cancelled.getByRole("link", { name: /account/i }).waitFor();

    // A visitor (not signed in) arriving with some session id is asked to sign in.
    await page.goto("/billing/success?session_id=cs_test_unknown");
    const result = page.getByTestId("checkout-result");
    await eventually(
      async () => (await result.getAttribute("data-phase")) === "signed_out",
      "the success page to ask for a login",
    );
  });
});
