/**
 * The competitor_gap card and panel render the tool's real output: the fixture is the
 * tool's JSON on the Pathfinder sample export with Frizz as the own channel, limit 3
 * (made with agents' run_tool over InMemoryAgentData, observed 2023-06-15).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CompetitorGapCard, scoreBreakdown, youtubeWatchUrl } from "@/components/competitor-gap-card";
import { CompetitorGapPanel } from "@/components/competitor-gap-panel";
import { ToolResult } from "@/components/tool-result";
import { competitorGap, competitorGapPath } from "@/lib/api/competitor-gap";
import { competitorGapSchema, type CompetitorGap } from "@/lib/api/schemas";
import { toolLabel } from "@/lib/tool-labels";

const OUTPUT: unknown = JSON.parse(
  readFileSync(resolve(process.cwd(), "tests/fixtures/competitor-gap.json"), "utf8"),
);
const REPORT: CompetitorGap = competitorGapSchema.parse(OUTPUT);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function gapItems(): HTMLElement[] {
  return screen.getAllByTestId("gap");
}

describe("the competitor_gap chat card", () => {
  it("shows each gap's topic, score with its formula, and proof videos", () => {
    render(<ToolResult name="competitor_gap" output={OUTPUT} />);
    expect(screen.getByTestId("competitor-gap-card")).toBeTruthy();
    const items = gapItems();
    expect(items.map((item) => within(item).getByRole("heading").textContent)).toEqual([
      "fighter class",
      "open rpg",
      "license",
    ]);

    const top = items[0];
    const score = within(top).getByText("62/100");
    expect(score.getAttribute("title")).toContain(REPORT.score_formula);
    expect(score.getAttribute("title")).toContain("C (channels) 1.00");
    expect(within(top).getByText(/3 outlier\(s\) among 3 mature competitor video\(s\)/)).toBeTruthy();

    const proofs = within(top).getByRole("list", { name: "Proof videos for fighter class" });
    const rows = within(proofs).getAllByRole("listitem");
    expect(rows).toHaveLength(3);
    const link = within(rows[0]).getByRole("link", {
      name: "The Fighter Class ft. NoNat1s [Pathfinder 2e Animated]",
    });
    expect(link.getAttribute("href")).toBe("https://www.youtube.com/watch?v=uydG0INbq9k");
    expect(link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(rows[0].textContent).toContain("deadly d8 · 11,026 views · ×8.4 median");
    expect(rows[1].textContent).toContain("Nonat1s · 63,581 views · ×6.0 median");
  });

  it("says how many proof videos are not listed, and how many gaps were found", () => {
    render(<CompetitorGapCard output={OUTPUT} />);
    const license = gapItems()[2];
    expect(within(license).getByText("…and 4 more proof videos.")).toBeTruthy();
    expect(screen.getByText("The top 3 of 191 gaps.")).toBeTruthy();
    expect(screen.getByText(/Frizz against 5 competitor channel\(s\)/).textContent).toContain(
      "217 of Frizz's videos checked (imported CSV)",
    );
  });

  it("explains the score in the formula's letters", () => {
    const gap = REPORT.gaps[0];
    expect(scoreBreakdown(gap)).toBe(
      `C (channels) 1.00, M (multiple) ${gap.score_components.multiple.toFixed(2)}, ` +
        `H (hit rate) 0.60, R (recency) ${gap.score_components.recency.toFixed(2)}`,
    );
    render(<CompetitorGapCard output={OUTPUT} />);
    const how = within(gapItems()[0]).getByText("How this score is computed").closest("details");
    expect(how?.textContent).toContain(REPORT.score_formula);
  });

  it("names skipped channels and says why there is no gap", () => {
    const report = structuredClone(REPORT);
    report.competitors[0] = {
      ...report.competitors[0],
      status: "skipped",
      median_views: null,
      skip_reason: "3 video(s) at least 7 days old of 3; a median needs at least 5",
    };
    report.gaps = [];
    report.gaps_found = 0;
    report.gaps_listed = 0;
    report.reason = "no competitor video reached 50x its channel's median";
    render(<CompetitorGapCard output={report} />);
    expect(screen.getByRole("list", { name: "Skipped channels" }).textContent).toBe(
      "Skipped deadly d8: 3 video(s) at least 7 days old of 3; a median needs at least 5",
    );
    expect(screen.getByText("No content gap found: no competitor video reached 50x its channel's median.")).toBeTruthy();
    expect(screen.queryAllByTestId("gap")).toHaveLength(0);
  });

  it("falls back to the generic view for another shape", () => {
    render(<ToolResult name="competitor_gap" output={{ gaps: "none", note: "old shape" }} />);
    expect(screen.queryByTestId("competitor-gap-card")).toBeNull();
    expect(screen.getByText("old shape")).toBeTruthy();
  });

  it("has a label and builds safe links", () => {
    expect(toolLabel("competitor_gap")).toBe("Content gaps");
    expect(youtubeWatchUrl("a&b")).toBe("https://www.youtube.com/watch?v=a%26b");
  });
});

describe("the competitor gap request", () => {
  it("puts each competitor, the multiple and the limit in the query", () => {
    expect(competitorGapPath("c 1")).toBe("/api/channels/c%201/competitor-gap/");
    expect(competitorGapPath("c1", { competitors: ["a", "b"], minMultiple: 5, limit: 3 })).toBe(
      "/api/channels/c1/competitor-gap/?competitors=a&competitors=b&min_multiple=5&limit=3",
    );
  });

  it("validates the answer with its schema", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ gaps: [] }), { status: 200 })));
    await expect(competitorGap("c1")).rejects.toMatchObject({ code: "UNKNOWN" });
  });
});

describe("the Channels page panel", () => {
  it("loads the primary's gaps and renders them", async () => {
    const fetchMock = vi.fn(async (_path: string) => new Response(JSON.stringify(OUTPUT), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    render(<CompetitorGapPanel channelId="main" channelName="Frizz" competitorCount={5} />);
    expect(screen.getByRole("status").textContent).toContain("Comparing with 5 competitor channel(s)");
    await waitFor(() => expect(gapItems()).toHaveLength(3));
    expect(fetchMock.mock.calls[0][0]).toBe("/api/channels/main/competitor-gap/");
    expect(screen.getByRole("heading", { name: "Content gaps: Frizz vs competitors" })).toBeTruthy();
  });

  it("without competitors says how to add them and asks nothing", () => {
    const fetchMock = vi.fn();
    vi.stubGlobal("fetch", fetchMock);
    render(<CompetitorGapPanel channelId="main" channelName="Frizz" competitorCount={0} />);
    expect(screen.getByTestId("competitor-gap-panel").textContent).toContain("Import or add your competitors");
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("shows the server's error", async () => {
    const body = { error: { code: "VALIDATION_ERROR", message: "There are no competitor channels", details: {} } };
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status: 400 })));
    render(<CompetitorGapPanel channelId="main" channelName="Frizz" competitorCount={1} />);
    await waitFor(() => expect(screen.getByTestId("competitor-gap-panel").textContent).toContain("no competitor channels"));
  });
});
