import { describe, expect, it } from "vitest";
import { calendarEnd, intensity, uploadCalendar } from "@/lib/calendar";
import { parseChannelRef } from "@/lib/channel-ref";
import { INITIAL_RUN, reduceRunEvent } from "@/lib/run-events";
import { transcriptToMessages } from "@/lib/transcript";
import { sortVideos } from "@/components/outlier-table";
import { toRunSteps } from "@/lib/run-steps";
import type { OutlierVideo, Transcript } from "@/lib/api/schemas";

describe("transcriptToMessages", () => {
  const base = { id: "s1", title: "t", model: "offline", created_at: "2026-01-01T00:00:00Z" };
  const run = (id: string, status: string) => ({
    id,
    status,
    model: "offline",
    usage: { input_tokens: 10, output_tokens: 20, cost_usd: "0.000000" },
    error: status === "failed" ? { code: "RUN_TIMEOUT", message: "too slow" } : null,
  });
  const msg = (id: string, role: "user" | "assistant", runId: string, extra = {}) => ({
    id,
    role,
    content: `${role} ${id}`,
    tool_results: [],
    run_id: runId,
    created_at: "2026-01-01T00:00:00Z",
    ...extra,
  });

  it("rebuilds tool cards and usage of stored answers, notes failed runs, finds the active run", () => {
    const transcript: Transcript = {
      ...base,
      runs: [run("r1", "completed"), run("r2", "failed"), run("r3", "running")],
      messages: [
        msg("u1", "user", "r1"),
        msg("a1", "assistant", "r1", {
          tool_results: [
            { call_id: "c1", name: "hashtags", output: { hashtags: [] } },
            { call_id: "c2", name: "keyword_research", error: { code: "TOOL_ERROR", message: "boom" } },
          ],
        }),
        msg("u2", "user", "r2"),
        msg("u3", "user", "r3"),
      ],
    };
    const { messages, activeRunId } = transcriptToMessages(transcript);
    expect(activeRunId).toBe("r3");
    expect(messages.map((m) => `${m.role}:${m.id}`)).toEqual([
      "user:u1",
      "assistant:a1",
      "user:u2",
      "assistant:run-r2",
      "user:u3",
    ]);
    const steps = toRunSteps(messages[1]);
    expect(steps.steps.map((s) => (s.kind === "tool" ? `${s.name}:${s.state}` : s.kind))).toEqual([
      "hashtags:done",
      "keyword_research:error",
      "text",
    ]);
    expect(steps.usage).toMatchObject({ inputTokens: 10, outputTokens: 20, offline: true, final: true });
    expect(toRunSteps(messages[3]).error).toEqual({ code: "RUN_TIMEOUT", message: "too slow" });
  });
});

describe("uploadCalendar", () => {
  it("counts uploads per UTC day in Monday-first weeks ending at as_of", () => {
    const weeks = uploadCalendar(
      ["2026-03-02T10:00:00Z", "2026-03-02T23:00:00Z", "2026-03-04T01:00:00Z", "2025-01-01T00:00:00Z"],
      "2026-03-05T12:00:00Z",
      2,
    );
    expect(weeks.map((w) => w.weekStart)).toEqual(["2026-02-23", "2026-03-02"]);
    const last = weeks[1].days;
    expect(last.map((d) => d.count)).toEqual([2, 0, 1, 0, 0, 0, 0]);
    expect(last.map((d) => d.future)).toEqual([false, false, false, false, true, true, true]);
    expect(intensity(2, 2)).toBe(4);
    expect(intensity(1, 4)).toBe(1);
    expect(intensity(0, 4)).toBe(0);
  });
});

describe("calendarEnd", () => {
  it("ends at as_of while the channel uploads within the window", () => {
    expect(calendarEnd(["2026-03-01T00:00:00Z"], "2026-03-05T12:00:00Z", 26)).toBe("2026-03-05T12:00:00Z");
  });
  it("ends at the last upload when the channel has been silent longer than the window", () => {
    expect(calendarEnd(["2023-06-10T08:00:00Z", "2023-01-01T00:00:00Z"], "2026-11-21T00:00:00Z", 26)).toBe(
      "2023-06-10T08:00:00.000Z",
    );
  });
  it("keeps as_of without uploads", () => {
    expect(calendarEnd([], "2026-11-21T00:00:00Z", 26)).toBe("2026-11-21T00:00:00Z");
  });
});

describe("parseChannelRef", () => {
  it.each([
    ["@espressolab", { handle: "@espressolab" }],
    ["espressolab", { handle: "@espressolab" }],
    ["https://www.youtube.com/@espressolab/videos", { handle: "@espressolab" }],
    ["youtube.com/channel/UCabcdefghij1234567890", { channel_id: "UCabcdefghij1234567890" }],
    ["UCabcdefghij1234567890", { channel_id: "UCabcdefghij1234567890" }],
    ["https://example.com/@x", null],
    ["", null],
    ["a b", null],
  ])("%s", (input, expected) => {
    expect(parseChannelRef(input)).toEqual(expected);
  });
});

describe("reduceRunEvent", () => {
  it("follows a factoid run from queued to its result", () => {
    let state = INITIAL_RUN;
    state = reduceRunEvent(state, "run.started", { model: "offline" });
    state = reduceRunEvent(state, "message.delta", { text: "A day" });
    state = reduceRunEvent(state, "message.reset", {});
    state = reduceRunEvent(state, "message.delta", { text: "A year" });
    expect(state).toMatchObject({ phase: "running", text: "A year", model: "offline" });
    state = reduceRunEvent(state, "run.completed", { result: { uuid: "f1" } });
    expect(state).toMatchObject({ phase: "succeeded", result: { uuid: "f1" } });
    expect(reduceRunEvent(INITIAL_RUN, "run.failed", { error: { code: "DUPLICATE_FACTOID", message: "dup" } })).toMatchObject({
      phase: "failed",
      error: { code: "DUPLICATE_FACTOID", message: "dup" },
    });
  });
});

describe("sortVideos", () => {
  const video = (id: string, smart: number, ratio: number | null): OutlierVideo => ({
    video_id: id,
    title: id,
    group: "long_form",
    published_at: "2026-01-01T00:00:00Z",
    views: 1,
    views_per_day: 1,
    engagement_rate: 0,
    smart_score: smart,
    views_to_median: ratio,
    flag: "none",
  });
  it("sorts by SmartScore or views ÷ median, missing ratios last when descending", () => {
    const videos = [video("a", 0.2, 3), video("b", 0.9, null), video("c", 0.5, 1)];
    expect(sortVideos(videos, "smart_score", true).map((v) => v.video_id)).toEqual(["b", "c", "a"]);
    expect(sortVideos(videos, "views_to_median", true).map((v) => v.video_id)).toEqual(["a", "c", "b"]);
    expect(sortVideos(videos, "views_to_median", false).map((v) => v.video_id)).toEqual(["b", "c", "a"]);
  });
});
