// Stop mid-answer: the text streamed so far stays, marked stopped (also after a reload),
// and the next message goes on from it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { answers, eventually, screenshot, sendChat, withPage } from "./lib.mjs";

// The answer is rendered Markdown: compare the words only.
const plain = (text) => text.replace(/[*_#`>|\[\]()-]/g, " ").replace(/\s+/g, " ").trim();

test("stop mid-answer keeps the text, and the chat goes on", async () => {
  await withPage(async (page) => {
    await page.goto("/chat");
    await sendChat(page, "Hashtags for a sourdough baking short");
    await eventually(
      async () => (await answers(page).count()) > 0 && (await answers(page).last().innerText()).length > 10,
      "the answer to start streaming",
      60_000,
    );
    await page.getByRole("button", { name: "Stop" }).click();
    await eventually(async () => (await page.getByText("Stopped.").count()) === 1, "the stop to land", 30_000);
    const sessionId = new URL(page.url()).searchParams.get("session");
    const stored = await eventually(async () => {
      const transcript = await page.evaluate(async (id) => (await fetch(`/api/chat/sessions/${id}/`)).json(), sessionId);
      const answer = transcript.messages.find((m) => m.role === "assistant");
      return transcript.runs[0]?.status === "cancelled" && answer;
    }, "the stopped run on the server");
    assert.equal(stored.stopped, true);
    assert.ok(stored.content.length > 10, `kept text: ${stored.content}`);
    await screenshot(page, "chat-stopped");

    // After a reload the stopped answer is still there, and says so.
    await page.reload();
    await eventually(async () => (await answers(page).count()) === 1, "the stopped answer after reload");
    const firstWords = plain(stored.content).split(" ").slice(0, 3).join(" ");
    const shown = plain(await answers(page).first().innerText());
    assert.ok(shown.includes(firstWords), `"${firstWords}" in the shown answer: ${shown}`);
    assert.equal(await page.getByText("Stopped.").count(), 1);

    // The next message runs to its end after it.
    await sendChat(page, "And video ideas for sourdough baking shorts");
    await eventually(async () => (await answers(page).count()) === 2, "the next answer", 60_000);
    await eventually(
      async () => (await page.getByRole("button", { name: "Stop" }).count()) === 0,
      "the next run to finish",
      60_000,
    );
    assert.ok((await answers(page).last().innerText()).trim().length > 20);
    await screenshot(page, "chat-stopped-then-continued");
  });
});

test("send instead mid-answer: the new question replaces the one being answered", async () => {
  await withPage(async (page) => {
    await page.goto("/chat");
    await sendChat(page, "Hashtags for a sourdough baking short");
    await eventually(
      async () => (await answers(page).count()) > 0 && (await answers(page).last().innerText()).length > 10,
      "the answer to start streaming",
      60_000,
    );
    await page.getByLabel("Message", { exact: true }).fill("Hashtags for a rye bread short");
    await page.getByRole("button", { name: "Send instead" }).click();
    // The transcript then shows one question — the new one, as a second version of the
    // first — and its answer.
    await eventually(
      async () =>
        (await page.getByTestId("user-message").count()) === 1 &&
        /rye bread/.test(await page.getByTestId("user-message").innerText()) &&
        (await page.getByRole("button", { name: "Stop" }).count()) === 0 &&
        (await answers(page).count()) === 1,
      "the branch with the new question, answered",
      60_000,
    );
    assert.match(await page.locator(".message.user").first().innerText(), /2\/2/);
    assert.equal(await answers(page).count(), 1);
    const sessionId = new URL(page.url()).searchParams.get("session");
    const transcript = await page.evaluate(async (id) => (await fetch(`/api/chat/sessions/${id}/`)).json(), sessionId);
    assert.deepEqual(
      transcript.runs.map((run) => run.status).sort(),
      ["cancelled", "completed"],
      "the replaced question's run was cancelled",
    );
    await screenshot(page, "chat-sent-instead");
  });
});
