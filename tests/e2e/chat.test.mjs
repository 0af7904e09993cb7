// Send a chat message; see the plan's tool cards finish and the answer stream in.
import assert from "node:assert/strict";
import { test } from "node:test";

import { answers, eventually, screenshot, sendChat, withPage } from "./lib.mjs";

test("a chat message shows tool cards, the answer and the usage line", async () => {
  await withPage(async (page) => {
    await page.goto("/chat");
    await sendChat(page, "Give me content ideas and hashtags for home espresso videos");

    await page.getByTestId("user-message").first().waitFor();
    const card = page.getByTestId("tool-card").first();
    await card.waitFor({ timeout: 30_000 });
    assert.ok(await card.getAttribute("data-tool-name"));

    await eventually(
      async () => (await page.getByRole("button", { name: "Stop" }).count()) === 0,
      "the run to finish",
      60_000,
    );
    const states = await page.getByTestId("tool-card").evaluateAll((cards) =>
      cards.map((c) => c.getAttribute("data-state")),
    );
    assert.ok(states.length >= 1 && states.every((s) => s === "done"), `tool states ${states}`);
    const answer = (await answers(page).last().innerText()).trim();
    assert.ok(answer.length > 20, `answer: ${answer}`);
    assert.match(await page.getByTestId("usage-line").last().innerText(), /offline model/i);

    // The session is addressable: its id travels in the URL and it is listed.
    assert.match(page.url(), /[?&]session=[0-9a-f-]{36}/);
    await eventually(async () => (await page.getByTestId("session-item").count()) >= 1, "session list");
    await screenshot(page, "chat");
  });
});

test("the chat works at a phone's width", async () => {
  await withPage(
    async (page) => {
      await page.goto("/chat");
      const box = page.getByLabel("Message", { exact: true });
      await box.waitFor();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `page is ${width}px wide at a 375px viewport`);
      await screenshot(page, "chat-phone");
    },
    { viewport: { width: 375, height: 740 } },
  );
});
