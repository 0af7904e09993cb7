import { describe, expect, it } from "vitest";
import type { UIMessageChunk } from "ai";
import { chatRequestBody } from "@/lib/chat-transport";
import type { ChatUIMessage } from "@/lib/chat-types";
import { activeRunId, formatUsage, toRunSteps, type ToolStep } from "@/lib/run-steps";
import { fixtureChunks, toMessage, until } from "./helpers";

const tools = (steps: ReturnType<typeof toRunSteps>["steps"]) =>
  steps.filter((step): step is ToolStep => step.kind === "tool");

describe("the recorded stream", () => {
  it("parses every SSE data line except [DONE]", () => {
    const chunks = fixtureChunks();
    expect(chunks[0]).toMatchObject({ type: "start", messageMetadata: { run_id: expect.any(String) } });
    expect(chunks[chunks.length - 1]).toMatchObject({ type: "finish" });
    expect(chunks.some((chunk) => (chunk as { type: string }).type === "[DONE]")).toBe(false);
  });

  it("becomes plan, three finished tool cards, the answer and the run's usage", async () => {
    const message = await toMessage(fixtureChunks());
    const run = toRunSteps(message);

    expect(run.runId).toBe("bbada1ea-b92e-4ae9-9135-685bdd6767a0");
    expect(run.steps.map((step) => step.kind)).toEqual(["plan", "tool", "tool", "tool", "text"]);

    const plan = run.steps[0];
    expect(plan.kind === "plan" && plan.calls.map((call) => call.name)).toEqual([
      "content_ideas",
      "keyword_research",
      "hashtags",
    ]);

    const cards = tools(run.steps);
    expect(cards.map((card) => [card.name, card.state])).toEqual([
      ["content_ideas", "done"],
      ["keyword_research", "done"],
      ["hashtags", "done"],
    ]);
    expect(cards[0].args).toEqual({ topic: "home espresso" });
    expect(cards[0].progress).toEqual({ done: 3, total: 3, message: "3 concepts ready" });
    expect((cards[2].output as { hashtags: unknown[] }).hashtags).toHaveLength(3);

    expect(run.answer.startsWith("### Content ideas [tool:content_ideas]")).toBe(true);
    expect(run.answer.endsWith("not written by an AI model._")).toBe(true);
    // Each delta once: the text is exactly the concatenation of the deltas.
    const deltas = fixtureChunks()
      .filter((chunk): chunk is Extract<UIMessageChunk, { type: "text-delta" }> => chunk.type === "text-delta")
      .map((chunk) => chunk.delta)
      .join("");
    expect(run.answer).toBe(deltas);

    expect(run.usage).toEqual({
      model: "offline",
      offline: true,
      inputTokens: 2698,
      outputTokens: 673,
      costUsd: "0.000000",
      final: true,
    });
    expect(formatUsage(run.usage!)).toBe("2,698 tokens in · 673 out · $0.000000 · offline model");
  });

  it("shows tools still running, with progress, mid-stream", async () => {
    const chunks = fixtureChunks();
    const partial = until(chunks, (chunk) => chunk.type === "tool-output-available");
    const run = toRunSteps(await toMessage(partial), { active: true });
    const cards = tools(run.steps);
    expect(cards.map((card) => [card.name, card.state])).toEqual([
      ["content_ideas", "running"],
      ["keyword_research", "running"],
      ["hashtags", "done"],
    ]);
    expect(cards[0].progress).toEqual({ done: 1, total: 3, message: "Asking for ideas" });
    expect(run.answer).toBe("");
    expect(run.usage).toMatchObject({ final: false, offline: true, costUsd: "0.000000" });
    expect(formatUsage(run.usage!)).toBe("so far $0.000000 · offline model");
  });

  it("marks tools that never finished as failed once the run is over (stopped)", async () => {
    const chunks = fixtureChunks();
    const partial = until(chunks, (chunk) => chunk.type === "tool-output-available");
    const run = toRunSteps(await toMessage([...partial, { type: "abort" }]), { active: false });
    const running = tools(run.steps).filter((card) => card.name !== "hashtags");
    expect(running.every((card) => card.state === "error")).toBe(true);
  });
});

describe("toRunSteps edge cases", () => {
  it("drops the text a retried run withdrew (data-message-reset)", async () => {
    const message = await toMessage([
      { type: "start", messageMetadata: { run_id: "r1" } },
      { type: "start-step" },
      { type: "text-start", id: "m:0" },
      { type: "text-delta", id: "m:0", delta: "half an ans" },
      { type: "text-end", id: "m:0" },
      { type: "data-message-reset", data: { message_id: "m" } },
      { type: "text-start", id: "m:1" },
      { type: "text-delta", id: "m:1", delta: "The whole answer." },
      { type: "text-end", id: "m:1" },
      { type: "finish-step" },
    ] as UIMessageChunk[]);
    expect(toRunSteps(message).answer).toBe("The whole answer.");
  });

  it("reports a failed tool with its error", async () => {
    const message = await toMessage([
      { type: "start", messageMetadata: { run_id: "r2" } },
      { type: "start-step" },
      { type: "tool-input-available", toolCallId: "c1", toolName: "channel_outliers", input: {} },
      { type: "tool-output-error", toolCallId: "c1", errorText: "NOT_FOUND: no channel" },
      { type: "finish-step" },
    ] as UIMessageChunk[]);
    const [card] = tools(toRunSteps(message).steps);
    expect(card).toMatchObject({ state: "error", errorText: "NOT_FOUND: no channel" });
  });

  it("names a model that is not offline", () => {
    const message: ChatUIMessage = {
      id: "a",
      role: "assistant",
      parts: [],
      metadata: { model: "openai/gpt-4o-mini", usage: { input_tokens: 5, output_tokens: 7, cost_usd: "0.000012" } },
    };
    expect(formatUsage(toRunSteps(message).usage!)).toBe(
      "5 tokens in · 7 out · $0.000012 · model openai/gpt-4o-mini",
    );
  });

  it("finds the run id Stop cancels on the last assistant message", async () => {
    const message = await toMessage(fixtureChunks().slice(0, 3));
    const user: ChatUIMessage = { id: "u", role: "user", parts: [{ type: "text", text: "hi" }] };
    expect(activeRunId([user, message])).toBe("bbada1ea-b92e-4ae9-9135-685bdd6767a0");
    expect(activeRunId([message, user])).toBeNull();
  });
});

describe("the POST /api/chat body", () => {
  it("carries only the newest message, the chat id and the model", () => {
    const messages: ChatUIMessage[] = [
      { id: "1", role: "user", parts: [{ type: "text", text: "old" }] },
      { id: "2", role: "assistant", parts: [{ type: "text", text: "answer" }] },
      { id: "3", role: "user", parts: [{ type: "text", text: "new" }] },
    ];
    expect(chatRequestBody({ id: "s1", messages, trigger: "submit-message", model: "offline" })).toEqual({
      id: "s1",
      messages: [messages[2]],
      trigger: "submit-message",
      model: "offline",
    });
  });
});
