// Edit, regenerate and switch versions: the chat keeps every version and shows one branch.
import assert from "node:assert/strict";
import { test } from "node:test";

import { answers, eventually, screenshot, sendChat, withPage } from "./lib.mjs";

async function idle(page, what) {
  await eventually(async () => (await page.getByRole("button", { name: "Stop" }).count()) === 0, what, 60_000);
}

test("edit a question, regenerate an answer, switch between versions", async () => {
  await withPage(async (page) => {
    await page.goto("/chat");
    await sendChat(page, "Hashtags for a sourdough baking short");
    await eventually(async () => (await answers(page).count()) === 1, "the first answer", 60_000);
    await idle(page, "the first run to finish");

    // Regenerate the answer: a second version of it, "2/2".
    await page.getByRole("button", { name: "Regenerate" }).click();
    await eventually(async () => (await page.getByTestId("versions").count()) === 1, "the answer's versions", 60_000);
    await idle(page, "the regenerated run to finish");
    assert.match(await page.getByTestId("versions").innerText(), /2\/2/);
    await screenshot(page, "branches-regenerated");

    // Edit the question: the conversation forks before it.
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Edit message").fill("Hashtags for a latte art short");
    await page.getByRole("button", { name: "Send edit" }).click();
    await eventually(
      async () => (await page.getByTestId("user-message").first().innerText()).includes("latte art"),
      "the edited question",
    );
    await eventually(async () => (await answers(page).count()) === 1, "the edited question's answer", 60_000);
    await idle(page, "the edited run to finish");
    await eventually(async () => (await page.getByTestId("versions").count()) >= 1, "the question's versions");
    await screenshot(page, "branches-edited");

    // Back to the first version of the question: its answers come back with it.
    await page.getByRole("button", { name: "Previous version" }).first().click();
    await eventually(
      async () => (await page.getByTestId("user-message").first().innerText()).includes("sourdough"),
      "the original question",
    );
    await eventually(async () => (await answers(page).count()) === 1, "its answer");
    await screenshot(page, "branches-switched");

    // Regenerate an older answer: the conversation forks there (what followed it stays on
    // the branch it was on), and that answer gets a third version.
    await sendChat(page, "And video ideas for sourdough baking shorts");
    await eventually(async () => (await answers(page).count()) === 2, "the second answer", 60_000);
    await idle(page, "the second run to finish");
    await page.getByRole("button", { name: "Regenerate" }).first().click();
    await idle(page, "the older answer's regeneration to finish");
    await eventually(async () => (await answers(page).count()) === 1, "the branch at the older answer", 60_000);
    await eventually(
      async () => /3\/3/.test(await page.locator(".message.assistant").first().innerText()),
      "the older answer's third version",
      60_000,
    );
    await screenshot(page, "branches-regenerated-older");
  });
});
