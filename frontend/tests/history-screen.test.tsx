import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HistoryScreen } from "@/components/history-screen";
import { historyEntry, historyPage } from "@/lib/api/history";
import { historyPageSchema } from "@/lib/api/schemas";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function entry(id: number, overrides: Record<string, unknown> = {}) {
  return {
    id,
    tool: "factoid",
    source: "chat",
    input: { topic: `topic ${id}` },
    result: { topic: `topic ${id}`, factoid: `Fact number ${id}.`, factoid_id: `f${id}` },
    run_id: "8c1f3c7e-0000-4000-8000-000000000001",
    session_id: "5d2e0a40-0000-4000-8000-000000000002",
    call_id: `call-${id}`,
    created_at: `2026-03-0${id}T10:00:00Z`,
    ...overrides,
  };
}

const HASHTAGS = entry(9, {
  tool: "hashtags",
  source: "api",
  run_id: null,
  session_id: null,
  call_id: "",
  input: { topic: "latte art" },
  result: {
    topic: "latte art",
    platform: "youtube",
    hashtags: [{ tag: "#latteart", suggested: true, usage_count: 0 }],
  },
});

function stubFetch(pages: Record<string, unknown>) {
  const fetchMock = vi.fn(async (input: string | URL | Request) => {
    const url = new URL(String(input), "http://localhost");
    const body = pages[url.search] ?? pages["*"];
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

describe("history calls", () => {
  it("ask for a page size, the page, the tool and the source", async () => {
    const fetchMock = stubFetch({ "*": { count: 0, next: null, previous: null, results: [] } });
    await historyPage({});
    await historyPage({ page: 3, pageSize: 2, tool: "factoid", source: "chat" });
    const urls = fetchMock.mock.calls.map(([input]) => String(input));
    expect(urls).toEqual(["/api/history/?page_size=20", "/api/history/?page_size=2&page=3&tool=factoid&source=chat"]);
  });

  it("read entries (a REST call has no run) and refuse an unknown source", async () => {
    const parsed = historyPageSchema.parse({ count: 2, next: null, previous: null, results: [entry(1), HASHTAGS] });
    expect(parsed.results.map((e) => [e.tool, e.source, e.run_id])).toEqual([
      ["factoid", "chat", "8c1f3c7e-0000-4000-8000-000000000001"],
      ["hashtags", "api", null],
    ]);
    const bad = historyPageSchema.safeParse({ count: 1, next: null, previous: null, results: [entry(1, { source: "mail" })] });
    expect(bad.success).toBe(false);
    const fetchMock = stubFetch({ "*": entry(4) });
    expect((await historyEntry(4)).call_id).toBe("call-4");
    expect(String(fetchMock.mock.calls[0][0])).toBe("/api/history/4/");
  });
});

describe("the History screen", () => {
  it("lists entries newest first with tool, when, source and the chat's card; loads more", async () => {
    const fetchMock = stubFetch({
      "?page_size=20": { count: 3, next: "/api/history/?page=2&page_size=20", previous: null, results: [entry(3), HASHTAGS] },
      "?page_size=20&page=2": { count: 3, next: null, previous: null, results: [HASHTAGS, entry(1)] },
    });
    render(<HistoryScreen />);
    await waitFor(() => expect(screen.getAllByTestId("history-entry")).toHaveLength(2));
    const [first, second] = screen.getAllByTestId("history-entry");
    expect(within(first).getByRole("heading", { name: "Factoid" })).toBeTruthy();
    expect(first.textContent).toContain("Chat");
    expect(first.querySelector("time")?.getAttribute("dateTime")).toBe("2026-03-03T10:00:00Z");
    // The result is the chat's own card (the factoid as a quote, saved privately).
    expect(first.querySelector("blockquote")?.textContent).toBe("Fact number 3.");
    expect(first.textContent).toContain("Saved privately to your history");
    expect(within(first).getByRole("link", { name: "Open the chat" }).getAttribute("href")).toBe(
      "/chat?session=5d2e0a40-0000-4000-8000-000000000002",
    );
    expect(second.dataset.source).toBe("api");
    expect(second.textContent).toContain("REST API");
    expect(within(second).getByRole("table")).toBeTruthy(); // the hashtag table
    expect(screen.getByTestId("history-count").textContent).toBe("Showing 2 of 3");

    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(screen.getAllByTestId("history-entry")).toHaveLength(3));
    // The entry repeated on the next page (new entries shift pages) is shown once.
    expect(screen.getAllByTestId("history-entry").map((e) => e.dataset.tool)).toEqual(["factoid", "hashtags", "factoid"]);
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it("filters by tool and by source", async () => {
    const fetchMock = stubFetch({
      "*": { count: 1, next: null, previous: null, results: [HASHTAGS] },
    });
    render(<HistoryScreen />);
    await waitFor(() => expect(screen.getAllByTestId("history-entry")).toHaveLength(1));
    const [toolSelect, sourceSelect] = screen.getAllByRole("combobox");
    fireEvent.change(toolSelect, { target: { value: "hashtags" } });
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(2));
    fireEvent.change(sourceSelect, { target: { value: "api" } });
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(3));
    expect(fetchMock.mock.calls.map(([input]) => String(input))).toEqual([
      "/api/history/?page_size=20",
      "/api/history/?page_size=20&tool=hashtags",
      "/api/history/?page_size=20&tool=hashtags&source=api",
    ]);
    expect(screen.getByRole("option", { name: "Video search" })).toBeTruthy();
  });

  it("says when there is nothing yet", async () => {
    stubFetch({ "*": { count: 0, next: null, previous: null, results: [] } });
    render(<HistoryScreen />);
    expect(await screen.findByText(/Nothing here yet/)).toBeTruthy();
  });
});
