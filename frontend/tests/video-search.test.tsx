import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SearchScreen } from "@/components/search-screen";
import { ToolResult } from "@/components/tool-result";
import { formatDuration, safeThumbnail, VideoCard } from "@/components/video-search-card";
import { searchVideos } from "@/lib/api/video-search";
import { videoSearchOutputSchema, videoSearchSchema } from "@/lib/api/schemas";
import { toolLabel } from "@/lib/tool-labels";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const VIDEO = {
  video_id: "abc123",
  title: "Latte art for beginners",
  channel_id: "UCbarista",
  channel_title: "Barista School",
  views: 123456,
  likes: 4200,
  comments: 310,
  published_at: "2026-02-01T09:30:00Z",
  duration_seconds: 754,
  thumbnail_url: "https://i.ytimg.com/vi/abc123/maxresdefault.jpg",
};
const HIDDEN = {
  ...VIDEO,
  video_id: "def456",
  title: "Milk steaming",
  likes: null,
  comments: null,
  thumbnail_url: null,
  duration_seconds: null,
};

type Route = { status: number; body: unknown };

function stubFetch(routes: (url: URL) => Route) {
  const fetchMock = vi.fn(async (input: string | URL | Request) => {
    const url = new URL(String(input), "http://localhost");
    const { status, body } = routes(url);
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

const NO_KEY = {
  status: 503,
  body: {
    error: {
      code: "UPSTREAM_UNAVAILABLE",
      message: "YouTube search needs a YouTube Data API key (YOUTUBE_API_KEYS) and none is configured.",
      details: {},
    },
  },
};

describe("video search schemas and calls", () => {
  it("reads the REST answer and the tool output, null counts included", () => {
    const rest = videoSearchSchema.parse({ source: "YouTube Data API", results: [VIDEO, HIDDEN] });
    expect(rest.scope).toBe("youtube"); // an older server without `scope`
    expect(rest.results[1].likes).toBeNull();
    const tool = videoSearchOutputSchema.safeParse({ source: "x", scope: "workspace", query: "q", results: [] });
    expect(tool.success).toBe(true);
    expect(videoSearchOutputSchema.safeParse({ source: "x", scope: "moon", query: "q", results: [] }).success).toBe(
      false,
    );
  });

  it("asks for the query and the scope (YouTube is the default, left out)", async () => {
    const fetchMock = stubFetch(() => ({ status: 200, body: { source: "s", scope: "workspace", results: [] } }));
    await searchVideos({ query: "  latte art ", scope: "workspace", maxResults: 12 });
    await searchVideos({ query: "latte art" });
    const urls = fetchMock.mock.calls.map(([input]) => String(input));
    expect(urls).toEqual([
      "/api/videos/search/?q=latte+art&scope=workspace&max_results=12",
      "/api/videos/search/?q=latte+art",
    ]);
  });
});

describe("video cards", () => {
  it("shows thumbnail, title, channel, views, likes, comments and publish date", () => {
    render(
      <ul>
        <VideoCard video={VIDEO} />
      </ul>,
    );
    const card = screen.getByTestId("video-card");
    const img = card.querySelector("img");
    expect(img?.getAttribute("src")).toBe(VIDEO.thumbnail_url);
    const link = within(card).getByRole("link", { name: "Latte art for beginners" });
    expect(link.getAttribute("href")).toBe("https://www.youtube.com/watch?v=abc123");
    expect(link.getAttribute("rel")).toContain("noopener");
    expect(card.textContent).toContain("Barista School");
    expect(card.textContent).toContain("123,456 views · 4,200 likes · 310 comments · Feb 1, 2026");
    expect(card.textContent).toContain("12:34");
  });

  it("has a neutral placeholder without a thumbnail and says which counts are hidden", () => {
    render(
      <ul>
        <VideoCard video={HIDDEN} />
      </ul>,
    );
    const card = screen.getByTestId("video-card");
    expect(card.querySelector("img")).toBeNull();
    expect(within(card).getByTestId("thumbnail-placeholder")).toBeTruthy();
    expect(card.textContent).toContain("likes hidden · comments off");
  });

  it("never turns a non-web address into an image", () => {
    expect(safeThumbnail("javascript:alert(1)")).toBeNull();
    expect(safeThumbnail("data:image/png;base64,xx")).toBeNull();
    expect(safeThumbnail("https://i.ytimg.com/vi/x/default.jpg")).toBe("https://i.ytimg.com/vi/x/default.jpg");
    expect([formatDuration(59), formatDuration(3600 + 62), formatDuration(null)]).toEqual(["0:59", "1:01:02", null]);
  });

  it("renders the video_search tool's result in chat with its scope and reason", () => {
    const output = {
      source: "your imported and fetched channels",
      scope: "workspace",
      requested_scope: "auto",
      scope_reason: "auto: YouTube search is not available (no YouTube Data API key is configured)",
      query: "latte art",
      result_count: 2,
      results: [
        { ...VIDEO, url: "https://www.youtube.com/watch?v=abc123" },
        { ...HIDDEN, url: "https://www.youtube.com/watch?v=def456" },
      ],
      note: "A count is null where the source hides it.",
    };
    const { container } = render(<ToolResult name="video_search" output={output} />);
    expect(screen.getAllByTestId("video-card")).toHaveLength(2);
    expect(container.textContent).toContain("2 videos for “latte art” on your stored channels");
    expect(container.textContent).toContain("Why: auto: YouTube search is not available");
    expect(toolLabel("video_search")).toBe("Video search");
  });

  it("falls back to the generic view for an output of another shape", () => {
    const { container } = render(<ToolResult name="video_search" output={{ unexpected: true }} />);
    expect(screen.queryByTestId("video-card")).toBeNull();
    expect(container.textContent).toContain("Raw JSON");
  });
});

describe("the Search screen", () => {
  function search(text: string) {
    fireEvent.change(screen.getByRole("searchbox"), { target: { value: text } });
    fireEvent.click(screen.getByRole("button", { name: "Search" }));
  }

  it("lists YouTube's results as cards", async () => {
    const fetchMock = stubFetch(() => ({
      status: 200,
      body: { source: "YouTube Data API", scope: "youtube", query: "latte", results: [VIDEO, HIDDEN] },
    }));
    render(<SearchScreen />);
    search("latte");
    await waitFor(() => expect(screen.getAllByTestId("video-card")).toHaveLength(2));
    expect(screen.getByTestId("search-summary").textContent).toContain("2 videos in YouTube");
    expect(String(fetchMock.mock.calls[0][0])).toBe("/api/videos/search/?q=latte");
  });

  it("without a YouTube key says so and offers the workspace's videos", async () => {
    const fetchMock = stubFetch((url) =>
      url.searchParams.get("scope") === "workspace"
        ? {
            status: 200,
            body: { source: "your imported and fetched channels", scope: "workspace", results: [HIDDEN] },
          }
        : NO_KEY,
    );
    render(<SearchScreen />);
    search("milk");
    const alert = await screen.findByTestId("search-needs-key");
    expect(alert.textContent).toContain("needs a YouTube Data API key");
    fireEvent.click(within(alert).getByRole("button", { name: /Search your channels/ }));
    await waitFor(() => expect(screen.getAllByTestId("video-card")).toHaveLength(1));
    expect(screen.queryByTestId("search-needs-key")).toBeNull();
    expect(screen.getByTestId("search-summary").textContent).toContain("1 video in Your channels");
    expect(String(fetchMock.mock.calls[1][0])).toBe("/api/videos/search/?q=milk&scope=workspace");
    expect((screen.getByRole("combobox") as HTMLSelectElement).value).toBe("workspace");
  });

  it("shows other errors by code (429: when to retry)", async () => {
    stubFetch(() => ({
      status: 429,
      body: { error: { code: "RATE_LIMITED", message: "Daily YouTube search limit reached.", details: { retry_after_s: 90 } } },
    }));
    render(<SearchScreen />);
    search("latte");
    const banner = await screen.findByTestId("error-banner");
    expect(banner.dataset.code).toBe("RATE_LIMITED");
    expect(banner.textContent).toContain("Daily YouTube search limit reached.");
  });
});
