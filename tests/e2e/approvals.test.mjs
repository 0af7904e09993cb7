// Approval before a step: with "ask before every step" on, the tool call shows an approval
// card (why, the estimate); Approve runs it and the answer follows; Deny shows it declined
// and the assistant answers without it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { answers, eventually, screenshot, screenshotElement, sendChat, withPage } from "./lib.mjs";

async function askBeforeEveryStep(page) {
  // (retried: the page mints its anonymous client as it starts)
  await eventually(async () => (await putMode(page)) === 200, "the approval setting to be saved");
}

async function putMode(page) {
  return page.evaluate(async () => {
    const csrf = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/)?.[1] ?? "";
    const response = await fetch("/api/clients/me/approvals/", {
      method: "PUT",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "X-Requested-With": "fetch" },
      body: JSON.stringify({ mode: "always" }),
    });
    return response.status;
  });
}

async function waitForCards(page) {
  const cards = page.getByTestId("approval-card");
  await eventually(async () => (await cards.count()) > 0, "an approval card", 60_000);
  return cards;
}

test("an approval card, approved then denied", async () => {
  await withPage(async (page) => {
    await page.goto("/chat");
    await eventually(async () => (await page.getByLabel("Message", { exact: true }).count()) === 1, "the chat");
    await askBeforeEveryStep(page);

    await sendChat(page, "Hashtags for a sourdough baking short");
    const card = await waitForCards(page);
    assert.equal(await card.count(), 1);
    assert.match(await card.innerText(), /Estimate: up to \$0\.0000/);
    assert.equal(await answers(page).count(), 0, "nothing answered while it waits");
    await screenshotElement(page.getByTestId("tool-card").first(), "approval-card");

    await card.getByRole("button", { name: "Approve" }).click();
    await eventually(async () => (await answers(page).count()) === 1, "the answer after approval", 60_000);
    await eventually(
      async () => (await page.locator('[data-testid="tool-card"][data-state="done"]').count()) === 1,
      "the approved tool's result",
    );
    await eventually(
      async () => (await page.getByRole("button", { name: "Stop" }).count()) === 0,
      "the approved run to finish",
      60_000,
    );
    await screenshot(page, "approval-approved");

    await sendChat(page, "And video ideas for sourdough baking shorts");
    // (one card per planned call; the answers go out once every card is answered)
    const asked = await (await waitForCards(page)).count();
    for (let i = 0; i < asked; i++) {
      await page.getByTestId("approval-card").first().getByRole("button", { name: "Deny" }).click();
    }
    await eventually(
      async () => (await page.locator('[data-testid="tool-card"][data-state="denied"]').count()) === asked,
      "the denied calls",
      60_000,
    );
    await eventually(async () => (await answers(page).count()) === 2, "the answer without the tools", 60_000);
    assert.equal(await page.getByText("You declined this step").count(), asked);
    await screenshot(page, "approval-denied");
  });
});

test("an approval card's arguments edited, then approved", async () => {
  await withPage(async (page) => {
    await page.goto("/chat");
    await eventually(async () => (await page.getByLabel("Message", { exact: true }).count()) === 1, "the chat");
    await askBeforeEveryStep(page);

    await sendChat(page, "Hashtags for a sourdough baking short");
    const card = (await waitForCards(page)).first();
    await card.getByRole("button", { name: "Edit" }).click();
    const box = card.getByLabel("Arguments (JSON)");
    const args = JSON.parse(await box.inputValue());
    assert.ok(args.topic, "the planned call's arguments are shown");

    // A value the tool refuses is named by the server and the card stays open.
    await box.fill(JSON.stringify({ ...args, count: 500 }));
    await card.getByRole("button", { name: "Approve with these" }).click();
    await eventually(async () => (await card.getByRole("alert").count()) === 1, "the server's objection");
    assert.match(await card.getByRole("alert").innerText(), /count/);
    await screenshot(page, "approval-edit-refused");

    await box.fill(JSON.stringify({ ...args, topic: "rye bread" }));
    await card.getByRole("button", { name: "Approve with these" }).click();
    await eventually(async () => (await answers(page).count()) === 1, "the answer after the edit", 60_000);
    const done = page.locator('[data-testid="tool-card"][data-state="done"]');
    await eventually(async () => (await done.count()) === 1, "the edited call's result", 60_000);
    assert.match(await done.innerText(), /rye bread/);
    await screenshot(page, "approval-edited");
  });
});
