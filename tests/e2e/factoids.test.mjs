// Generate a factoid, vote on it, and see the count (and your vote) survive a reload.
import assert from "node:assert/strict";
import { test } from "node:test";

import { eventually, screenshot, withPage } from "./lib.mjs";

test("a vote on a factoid changes its count, also after reload", async () => {
  await withPage(async (page) => {
    await page.goto("/factoids");
    await page.getByRole("button", { name: /generate/i }).first().click();
    const card = page.getByTestId("factoid").first();
    await card.waitFor({ timeout: 60_000 });
    const uuid = await card.getAttribute("data-uuid");
    assert.ok(uuid, "factoid cards carry their uuid");

    const mine = page.locator(`[data-testid="factoid"][data-uuid="${uuid}"]`);
    const score = () => mine.getByTestId("factoid-score").innerText();
    const before = Number((await score()).trim());
    const upvote = mine.getByRole("button", { name: "Upvote" });
    assert.equal(await upvote.getAttribute("aria-pressed"), "false");
    await upvote.click();
    await eventually(async () => Number((await score()).trim()) === before + 1, "the new score");
    assert.equal(await upvote.getAttribute("aria-pressed"), "true");

    await page.reload();
    await mine.waitFor();
    assert.equal(Number((await score()).trim()), before + 1);
    assert.equal(await mine.getByRole("button", { name: "Upvote" }).getAttribute("aria-pressed"), "true");
    await screenshot(page, "factoids");
  });
});
