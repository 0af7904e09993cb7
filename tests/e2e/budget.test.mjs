// A priced model with a zero anonymous budget: the chat says which limit was hit and how
// to raise it, and nothing runs.
import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, sendChat, withPage } from "./lib.mjs";

test("a zero budget shows the upgrade message", async () => {
  await withPage(async (page) => {
    await page.goto("/chat");
    const picker = page.getByLabel("Model", { exact: true });
    await picker.waitFor();
    await picker.selectOption(process.env.PRICED_MODEL);
    await sendChat(page, "Content ideas for a woodworking channel");

    const banner = page.getByTestId("error-banner");
    await banner.waitFor({ timeout: 30_000 });
    assert.equal(await banner.getAttribute("data-code"), "BUDGET_EXCEEDED");
    assert.equal(await banner.getAttribute("role"), "alert");
    const text = await banner.innerText();
    assert.match(text, /limit/i);
    // The zero daily budget refused it (not the per-call cap: the model is cheap).
    assert.match(text, /daily|day/i);
    assert.match(text, /API key|upgrade/i);
    assert.equal(await page.getByTestId("tool-card").count(), 0, "nothing ran");
    await screenshot(page, "budget-exceeded");
  });
});
