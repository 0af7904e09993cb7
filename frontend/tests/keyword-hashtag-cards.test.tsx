import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { HashtagTable } from "@/components/hashtag-table";
import { KeywordTable, type KeywordOutput } from "@/components/keyword-table";
import { hashtagOutputSchema, keywordOutputSchema } from "@/lib/api/schemas";

afterEach(cleanup);

/** Real tool outputs recorded against the fake YouTube API (validated by
 * tests/agents/tools/test_keyword_fixtures.py against the output models). */
const fixture = (name: string) =>
  JSON.parse(readFileSync(resolve(process.cwd(), "tests/fixtures", name), "utf8")) as Record<string, unknown>;
const KEYWORDS = fixture("keyword-research.json");
const HASHTAGS = fixture("hashtags.json");

const headers = (table: HTMLElement) =>
  within(table)
    .getAllByRole("columnheader")
    .map((th) => th.textContent);
const row = (table: HTMLElement, name: string) =>
  within(table).getByRole("rowheader", { name }).closest("tr") as HTMLTableRowElement;

describe("KeywordTable", () => {
  it("calls each figure what it is, corpus and sampled YouTube apart", () => {
    const { container } = render(<KeywordTable output={KEYWORDS as KeywordOutput} />);
    const [primary, longTail] = screen.getAllByRole("table");
    expect(headers(primary)).toEqual([
      "Keyword",
      "Views/month of matching videos (proxy)",
      "Competition (corpus)",
      "Relevance (corpus)",
      "Matching videos",
      "Result-count estimate",
      "YouTube competition (sampled)",
      "Views/day of top results (sampled)",
      "Proposed by",
    ]);
    expect(container.textContent).not.toMatch(/search volume/i);

    const powerBi = row(primary, "power bi");
    const cells = within(powerBi).getAllByRole("cell");
    expect(cells.map((cell) => cell.textContent)).toEqual([
      "264",
      "64",
      "100%",
      "26",
      "≈ 218",
      "88",
      "306",
      "topic",
    ]);
    // Source and sample on hover.
    expect(cells[1].title).toContain("your imported and fetched channels");
    expect(cells[1].title).toContain("sample: 26 videos from 3 channels (1 own, 2 competitor)");
    expect(cells[4].title).toContain("estimate");
    expect(cells[5].title).toContain("sample: 25 videos from 3 channels");

    const summary = screen.getByTestId("youtube-sample-note").textContent ?? "";
    expect(summary).toContain("power bi, power, power bi for beginners");
    expect(summary).toContain("306 quota units");
    expect(summary).toContain("YouTube's estimate");
  });

  it("shows a missing figure as — with its reason, numbered under the table", () => {
    render(<KeywordTable output={KEYWORDS as KeywordOutput} />);
    const longTail = screen.getAllByRole("table")[1];
    const unsampled = row(longTail, "how to start power bi");
    const missing = within(unsampled).getAllByTestId("figure-missing");
    expect(missing.map((span) => span.textContent?.startsWith("—"))).toEqual(Array(missing.length).fill(true));
    expect(missing.map((span) => span.title)).toContain(
      "not sampled: only the top 3 keywords are searched on YouTube per request",
    );
    expect(missing[0].title).toBe("no video among 26 has 'how to start power bi' in its title or tags");
    const notes = within(longTail.closest(".table-wrap") as HTMLElement).getByRole("list", {
      name: "Why some figures are missing",
    });
    const items = within(notes).getAllByRole("listitem").map((li) => li.textContent);
    // Each reason once; a cell's number points at its reason.
    expect(new Set(items).size).toBe(items.length);
    const number = Number(missing[0].querySelector("sup")?.textContent);
    expect(items[number - 1]).toBe(missing[0].title);
  });

  it("says plainly when there is no data and how to add channels; no YouTube columns without keys", () => {
    const output: KeywordOutput = {
      topic: "budget travel",
      source: "your imported and fetched channels: 0 videos about the topic",
      corpus: { videos: 0, channels: 0, own_channels: 0, competitor_channels: 0 },
      corpus_note:
        "There is no data to measure keywords on: you have no channels yet. Add your own channel and a few competitors' on the Channels page.",
      primary: [
        {
          keyword: "budget travel",
          proposed_by: "topic",
          matching_videos: 0,
          demand_proxy: { value: null, source: "x", sample: { videos: 0, channels: 0 }, reason: "the corpus is empty" },
          competition: { value: null, source: "x", sample: { videos: 0, channels: 0 }, reason: "the corpus is empty" },
          relevance: { value: null, source: "x", sample: { videos: 0, channels: 0 }, reason: "the corpus is empty" },
          youtube: { status: "not sampled", reason: "not sampled: no YouTube API key is configured" },
        },
      ],
      youtube: {
        available: false,
        note: "YouTube search is not configured (YOUTUBE_API_KEYS is unset): the figures come from your channels only.",
        sampled: [],
      },
    };
    render(<KeywordTable output={output} />);
    expect(screen.getByRole("note").textContent).toContain("Channels page");
    const table = screen.getByRole("table");
    expect(headers(table)).not.toContain("Result-count estimate");
    expect(screen.getByTestId("youtube-sample-note").textContent).toContain("YOUTUBE_API_KEYS is unset");
    const notes = screen.getByRole("list", { name: "Why some figures are missing" });
    expect(within(notes).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["the corpus is empty"]);
  });

  it("reads results stored before the rename (search_volume) as the views proxy", () => {
    const legacy = {
      primary: [
        {
          keyword: "espresso",
          search_volume: { value: 1234, source: "sample corpus" },
          competition: { value: null, source: "sample corpus", reason: "old reason" },
          relevance: { value: 0.5, source: "sample corpus" },
        },
      ],
    };
    expect(keywordOutputSchema.parse(legacy).primary[0].demand_proxy?.value).toBe(1234);
    render(<KeywordTable output={legacy} />);
    const cells = within(screen.getByRole("table")).getAllByRole("cell");
    expect(cells[0].textContent).toBe("1,234");
    expect(within(cells[1]).getByTestId("figure-missing").title).toBe("old reason");
  });

  it("falls back to the generic view for an output it cannot read", () => {
    render(<KeywordTable output={{ primary: "three" } as unknown as KeywordOutput} />);
    expect(screen.queryByRole("table")).toBeNull();
  });
});

describe("HashtagTable", () => {
  it("shows uses, channels and averages, a missing average with its reason", () => {
    expect(hashtagOutputSchema.safeParse(HASHTAGS).success).toBe(true);
    render(<HashtagTable output={HASHTAGS} />);
    const table = screen.getByRole("table");
    expect(headers(table)).toEqual([
      "Hashtag",
      "Uses",
      "Channels using it",
      "Average views of those videos",
      "Average engagement of those videos",
      "Where from",
    ]);
    const powerBi = within(row(table, "#PowerBI")).getAllByRole("cell");
    expect(powerBi.map((cell) => cell.textContent)).toEqual([
      "15 videos (1× in your text)",
      "2",
      "5,600",
      "0.4%",
      "videos",
    ]);
    expect(powerBi[2].title).toBe("15 videos from 2 channels (1 own, 1 competitor)");
    const dax = within(row(table, "#DAX")).getAllByRole("cell");
    expect(within(dax[2]).getByTestId("figure-missing").title).toBe(
      "only 3 video(s) use it; averages take at least 5",
    );
    // Every hashtag of the text is listed, the new one as counted in the text only.
    const newtag = within(row(table, "#newtag")).getAllByRole("cell");
    expect(newtag[0].textContent).toBe("1× in your text");
    const suggested = within(row(table, "#power")).getAllByRole("cell");
    expect(suggested[4].textContent).toBe("suggested");
    const notes = within(screen.getByRole("list", { name: "Why some figures are missing" }))
      .getAllByRole("listitem")
      .map((li) => li.textContent);
    expect(notes).toEqual(["only 3 video(s) use it; averages take at least 5", "counted in your text only"]);
  });
});
