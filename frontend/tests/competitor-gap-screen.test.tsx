/** The Channels page shows the content-gap panel for the primary own channel only. */
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Channel } from "@/lib/api/schemas";

const apiMock = vi.hoisted(() => ({
  channels: vi.fn(),
  videos: vi.fn(),
  outliers: vi.fn(),
  uploadStreak: vi.fn(),
}));
const gapMock = vi.hoisted(() => ({ competitorGap: vi.fn() }));
const nav = vi.hoisted(() => ({ params: new URLSearchParams(), push: vi.fn() }));
vi.mock("@/lib/api", () => ({ api: apiMock }));
vi.mock("@/lib/api/competitor-gap", () => gapMock);
vi.mock("next/navigation", () => ({
  useSearchParams: () => nav.params,
  useRouter: () => ({ push: nav.push }),
}));

import { ChannelsScreen } from "@/components/channels-screen";

function channel(overrides: Partial<Channel> & { id: string }): Channel {
  return {
    external_id: `UC${overrides.id}`,
    title: overrides.id,
    display_name: null,
    name: overrides.name ?? overrides.id,
    handle: null,
    role: "competitor",
    primary: false,
    source: "import",
    video_count: 3,
    fetched_at: "2023-06-15T00:00:00Z",
    ...overrides,
  };
}

const FRIZZ = channel({ id: "frizz", name: "Frizz", role: "own", primary: true });
const SECOND = channel({ id: "second", name: "Second", role: "own" });
const RIVAL = channel({ id: "rival", name: "Rival" });
const page = (results: Channel[]) => ({ count: results.length, next: null, previous: null, results });

afterEach(cleanup);
beforeEach(() => {
  for (const fn of [...Object.values(apiMock), gapMock.competitorGap]) fn.mockReset();
  // Never answers: the panel stays in its loading state, which is all these tests need.
  gapMock.competitorGap.mockReturnValue(new Promise(() => {}));
  apiMock.videos.mockReturnValue(new Promise(() => {}));
  apiMock.outliers.mockReturnValue(new Promise(() => {}));
  apiMock.uploadStreak.mockReturnValue(new Promise(() => {}));
  nav.params = new URLSearchParams();
});

describe("the content-gap panel on the Channels page", () => {
  it("is shown for the primary on the landing view and on its own page", async () => {
    apiMock.channels.mockResolvedValue(page([FRIZZ, SECOND, RIVAL]));
    render(<ChannelsScreen />);
    expect(await screen.findByRole("heading", { name: "Content gaps: Frizz vs competitors" })).toBeTruthy();
    // The panel's heading renders before its effect asks for the gaps.
    await waitFor(() => expect(gapMock.competitorGap).toHaveBeenCalledWith("frizz"));

    cleanup();
    nav.params = new URLSearchParams("id=frizz");
    render(<ChannelsScreen />);
    expect(await screen.findByTestId("competitor-gap-panel")).toBeTruthy();
  });

  it("is not shown on another channel's page, nor without a primary", async () => {
    nav.params = new URLSearchParams("id=second");
    apiMock.channels.mockResolvedValue(page([FRIZZ, SECOND, RIVAL]));
    render(<ChannelsScreen />);
    await screen.findByRole("link", { name: "Second" });
    expect(screen.queryByTestId("competitor-gap-panel")).toBeNull();

    cleanup();
    nav.params = new URLSearchParams();
    apiMock.channels.mockResolvedValue(page([RIVAL]));
    render(<ChannelsScreen />);
    await screen.findByRole("link", { name: "Rival" });
    expect(screen.queryByTestId("competitor-gap-panel")).toBeNull();
  });

  it("without competitors it says how to add them", async () => {
    apiMock.channels.mockResolvedValue(page([FRIZZ]));
    render(<ChannelsScreen />);
    await waitFor(() =>
      expect(screen.getByTestId("competitor-gap-panel").textContent).toContain("Import or add your competitors"),
    );
    expect(gapMock.competitorGap).not.toHaveBeenCalled();
  });
});
