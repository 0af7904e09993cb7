// The creator's workspace end to end: import the shared six-channel CSV, mark a channel
// as the creator's own, then ask the agent about "my" channel, about a competitor by name,
// and what the competitors do better. Each step's tool cards must finish on the right
// channel.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";

import { answers, eventually, screenshot, screenshotElement, sendChat, withPage } from "./lib.mjs";

const CSV = path.join(process.env.SHARED_DATA, "youtube", "channel_uploads", "pathfinder_6ch_video_data.csv");

/** Sends `text` and returns the tool cards its run added, once the run has finished. */
async function ask(page, text) {
  const cards = page.getByTestId("tool-card");
  const before = await cards.count();
  const answersBefore = await answers(page).count();
  const sentBefore = await page.getByTestId("user-message").count();
  await sendChat(page, text);
  await eventually(async () => (await page.getByTestId("user-message").count()) > sentBefore, "the message to be sent");
  await eventually(async () => (await cards.count()) > before, "the run's tool cards", 60_000);
  await eventually(async () => (await answers(page).count()) > answersBefore, "the answer", 60_000);
  await eventually(
    async () => (await page.getByRole("button", { name: "Stop" }).count()) === 0,
    "the run to finish",
    90_000,
  );
  const all = await cards.evaluateAll((found) =>
    found.map((c) => ({ name: c.getAttribute("data-tool-name"), state: c.getAttribute("data-state"), text: c.innerText })),
  );
  return all.slice(before);
}

test("the agent works on the creator's own channel and its competitors", async () => {
  await withPage(async (page) => {
    await page.goto("/channels");
    await page.getByLabel(/CSV file/).setInputFiles(CSV);
    await page.getByRole("button", { name: "Import" }).click();
    await page.getByTestId("import-result").waitFor({ timeout: 60_000 });
    const items = page.getByTestId("channel-item");
    await eventually(async () => (await items.count()) === 6, "six channels listed");

    // The file's first channel starts as the primary own channel; make Nonat1s the
    // creator's channel instead and turn the first one into a competitor.
    const primaryName = page.locator('[data-testid="channel-item"][data-primary="true"] .channel-link');
    await primaryName.waitFor();
    const firstName = (await primaryName.innerText()).trim();
    assert.notEqual(firstName, "Nonat1s", "the file's first channel is another one");
    await page.getByRole("button", { name: "Make Nonat1s primary" }).click();
    await eventually(
      async () => (await primaryName.innerText()).trim() === "Nonat1s",
      "Nonat1s to become primary",
    );
    await page.getByLabel(`Role of ${firstName}`).selectOption("competitor");
    await eventually(
      async () => (await page.locator('[data-testid="channel-item"][data-role="own"]').count()) === 1,
      "one own channel",
    );
    await screenshot(page, "workspace-channels");

    await page.goto("/chat");
    const mine = await ask(page, "Which of my videos are outliers and how consistent are my uploads?");
    assert.deepEqual(
      mine.map((c) => [c.name, c.state]).sort(),
      [
        ["channel_outliers", "done"],
        ["upload_streak", "done"],
      ],
      JSON.stringify(mine),
    );
    for (const card of mine) assert.match(card.text, /Nonat1s/, `${card.name} is about Nonat1s`);
    await screenshot(page, "workspace-my-channel");
    await screenshotElement(page.locator('[data-tool-name="channel_outliers"]').last(), "workspace-my-outliers-card");
    await screenshotElement(page.locator('[data-tool-name="upload_streak"]').last(), "workspace-my-streak-card");

    const named = await ask(page, "Show me the outliers of The Rules Lawyer");
    assert.deepEqual(named.map((c) => [c.name, c.state]), [["channel_outliers", "done"]], JSON.stringify(named));
    assert.match(named[0].text, /The Rules Lawyer/);
    await screenshot(page, "workspace-named-channel");
    await screenshotElement(page.locator('[data-tool-name="channel_outliers"]').last(), "workspace-named-outliers-card");

    const gap = await ask(page, "What are my competitors doing better than me?");
    const gapCard = gap.find((c) => c.name === "competitor_gap");
    assert.ok(gapCard, `a competitor_gap card: ${JSON.stringify(gap)}`);
    assert.equal(gapCard.state, "done");
    const proof = page.locator('[data-tool-name="competitor_gap"]').last().locator(".gap-proofs li");
    await eventually(async () => (await proof.count()) > 0, "proof videos on the gap card");
    await screenshot(page, "workspace-competitor-gap");
    await screenshotElement(page.locator('[data-tool-name="competitor_gap"]').last(), "workspace-competitor-gap-card");
  });
});
