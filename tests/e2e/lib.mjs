// Shared by the browser scenarios: Chromium from the system (never downloaded), a page on
// the live backend, screenshots, and polling helpers (playwright-core has no `expect`).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

// playwright-core is a dependency of the frontend package; resolve it from there.
const require = createRequire(new URL("../../frontend/package.json", import.meta.url));
const { chromium } = require("playwright-core");

export const BASE_URL = process.env.BASE_URL ?? "http://127.0.0.1:8000";
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? "test-results/e2e";

/** Runs `fn(page)` in a fresh browser context (a new anonymous visitor). */
export async function withPage(fn, { viewport = { width: 1280, height: 900 } } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ baseURL: BASE_URL, viewport });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  // Whatever the pages' Content-Security-Policy refuses (or would, when report-only).
  const cspViolations = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  try {
    await fn(page);
    assert.deepEqual(pageErrors, [], "uncaught errors in the page");
    assert.deepEqual(cspViolations, [], "Content-Security-Policy violations");
  } finally {
    await browser.close();
  }
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** A picture of one element (e.g. a tool card inside the chat's scrolled transcript). */
export async function screenshotElement(locator, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await locator.scrollIntoViewIfNeeded();
  await locator.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function eventually(probe, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting for ${what} (last: ${String(last)})`);
}

export async function sendChat(page, text) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
}

export function answers(page) {
  return page.getByTestId("assistant-answer");
}
