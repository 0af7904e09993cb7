// Reload while the answer streams: the run resumes and no text is duplicated.
import assert from "node:assert/strict";
import { test } from "node:test";

import { answers, eventually, screenshot, sendChat, withPage } from "./lib.mjs";

const normalise = (text) => text.replace(/\s+/g, " ").trim();

test("reloading mid-run resumes the stream without duplicated text", async () => {
  await withPage(async (page) => {
    await page.goto("/chat");
    await sendChat(page, "Research keywords for sourdough baking");

    // In flight: some answer text, the Stop button still there.
    await eventually(
      async () => (await answers(page).count()) > 0 && (await answers(page).last().innerText()).length > 10,
      "the answer to start streaming",
      60_000,
    );
    assert.equal(await page.getByRole("button", { name: "Stop" }).count(), 1, "run still in flight");
    const sessionId = new URL(page.url()).searchParams.get("session");
    assert.ok(sessionId, "session id in the URL");

    await page.reload();
    await eventually(
      async () => (await page.getByTestId("user-message").count()) === 1,
      "the transcript after reload",
    );
    // The server's record of the finished run is the reference for what must be shown.
    const stored = await eventually(async () => {
      const transcript = await page.evaluate(async (id) => {
        const response = await fetch(`/api/chat/sessions/${id}/`);
        return response.json();
      }, sessionId);
      const finished = transcript.runs.every((run) => run.status === "completed");
      return finished && transcript.messages.filter((m) => m.role === "assistant").at(-1);
    }, "the run to complete on the server", 60_000);
    const plain = normalise(stored.content.replace(/[*_#`>|\[\]()-]/g, " "));
    const firstWords = plain.split(" ").slice(0, 4).join(" ");
    const lastWords = plain.split(" ").slice(-4).join(" ");

    await eventually(
      async () => (await page.getByRole("button", { name: "Stop" }).count()) === 0,
      "the resumed run to finish in the page",
      60_000,
    );
    await eventually(async () => (await answers(page).count()) === 1, "exactly one answer");
    const shown = await eventually(async () => {
      const text = normalise((await answers(page).first().innerText()).replace(/[*_#`>|\[\]()-]/g, " "));
      return normalise(text).includes(lastWords) && normalise(text);
    }, `the whole answer (ending "${lastWords}") in the page`);
    assert.equal(shown.split(firstWords).length - 1, 1, `opening "${firstWords}" appears once: ${shown}`);
    assert.equal(shown.split(lastWords).length - 1, 1, `ending "${lastWords}" appears once: ${shown}`);
    await screenshot(page, "chat-resumed");
  });
});
