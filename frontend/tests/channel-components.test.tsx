import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/api/errors";
import type { Channel } from "@/lib/api/schemas";

const apiMock = vi.hoisted(() => ({
  channels: vi.fn(),
  updateChannel: vi.fn(),
  deleteChannel: vi.fn(),
  importChannels: vi.fn(),
  addChannel: vi.fn(),
  run: vi.fn(),
  videos: vi.fn(),
  outliers: vi.fn(),
  uploadStreak: vi.fn(),
}));
const nav = vi.hoisted(() => ({ params: new URLSearchParams(), push: vi.fn() }));
vi.mock("@/lib/api", () => ({ api: apiMock }));
vi.mock("next/navigation", () => ({
  useSearchParams: () => nav.params,
  useRouter: () => ({ push: nav.push }),
}));

import { ChannelList, displayNameChange, roleChange } from "@/components/channel-list";
import { importedChannelLabel } from "@/components/channel-import";
import { ChannelsScreen } from "@/components/channels-screen";

afterEach(cleanup);
beforeEach(() => {
  for (const fn of Object.values(apiMock)) fn.mockReset();
  nav.push.mockReset();
  nav.params = new URLSearchParams();
});

function channel(overrides: Partial<Channel>): Channel {
  const title = overrides.title ?? "A channel";
  return {
    id: overrides.id ?? title,
    external_id: `UC${title}`,
    title,
    display_name: null,
    name: overrides.display_name ?? title,
    handle: null,
    role: "competitor",
    primary: false,
    source: "import",
    video_count: 3,
    fetched_at: "2026-11-21T10:00:00Z",
    ...overrides,
  };
}

const MAIN = channel({ id: "main", title: "Frizz Bakes", display_name: "Main", name: "Main", role: "own", primary: true, handle: "@frizz" });
const SHORTS = channel({ id: "shorts", title: "Frizz Shorts", role: "own" });
const RIVAL = channel({ id: "rival", title: "Rival Bakery", video_count: 40 });

function validation(field: string, message: string) {
  return ApiError.fromBody(400, {
    error: { code: "VALIDATION_ERROR", message: `${field}: ${message}`, details: { fields: { [field]: [message] } } },
  });
}

function item(name: string): HTMLElement {
  const link = screen.getByRole("link", { name });
  return link.closest("li") as HTMLElement;
}

describe("the changes an edit makes", () => {
  it("display name: trimmed, empty clears, unchanged is no request", () => {
    expect(displayNameChange({ display_name: null }, "  My rival ")).toEqual({ display_name: "My rival" });
    expect(displayNameChange({ display_name: "Main" }, "   ")).toEqual({ display_name: null });
    expect(displayNameChange({ display_name: "Main" }, " Main ")).toBeNull();
    expect(displayNameChange({ display_name: null }, "")).toBeNull();
  });

  it("role: only a different one", () => {
    expect(roleChange({ role: "own" }, "competitor")).toEqual({ role: "competitor" });
    expect(roleChange({ role: "own" }, "own")).toBeNull();
  });

  it("an import names what each channel became", () => {
    const base = { id: "c", status: "created", imported_rows: 1, video_count: 1 };
    expect(importedChannelLabel({ ...base, title: "Alpha", role: "own", primary: true })).toBe("Alpha (your primary channel)");
    expect(importedChannelLabel({ ...base, title: "Beta", role: "own", primary: false })).toBe("Beta (yours)");
    expect(importedChannelLabel({ ...base, title: "Gamma", role: "competitor", primary: false })).toBe("Gamma (competitor)");
    expect(importedChannelLabel({ ...base, title: "Delta" })).toBe("Delta");
  });
});

describe("ChannelList", () => {
  function renderList(onChange = vi.fn(async () => {}), onDelete = vi.fn(async () => {})) {
    render(<ChannelList channels={[MAIN, SHORTS, RIVAL]} selectedId="shorts" onChange={onChange} onDelete={onDelete} />);
    return { onChange, onDelete };
  }

  it("shows the name, the title beside a display name, the handle and one primary marker", () => {
    renderList();
    const main = item("Main");
    expect(within(main).getByText("primary")).toBeTruthy();
    expect(main.textContent).toContain("Frizz Bakes · @frizz · 3 videos");
    expect(main.dataset.primary).toBe("true");
    expect(screen.getAllByText("primary")).toHaveLength(1);
    // One link per item (the e2e test opens a channel through it), current one marked.
    expect(within(item("Frizz Shorts")).getAllByRole("link")).toHaveLength(1);
    expect(screen.getByRole("link", { name: "Frizz Shorts" }).getAttribute("aria-current")).toBe("page");
    expect((within(item("Rival Bakery")).getByRole("combobox") as HTMLSelectElement).value).toBe("competitor");
  });

  it("Make primary is offered on every channel but the primary, and sends primary: true", async () => {
    const { onChange } = renderList();
    expect(screen.queryByRole("button", { name: "Make Main primary" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Make Rival Bakery primary" }));
    await waitFor(() => expect(onChange).toHaveBeenCalledWith("rival", { primary: true }));
  });

  it("the role select sends the new role", async () => {
    const { onChange } = renderList();
    fireEvent.change(screen.getByRole("combobox", { name: "Role of Main" }), { target: { value: "competitor" } });
    await waitFor(() => expect(onChange).toHaveBeenCalledWith("main", { role: "competitor" }));
  });

  it("renames inline: trimmed, Escape cancels, an empty name clears it", async () => {
    const { onChange } = renderList();
    fireEvent.click(screen.getByRole("button", { name: "Rename Rival Bakery" }));
    const input = screen.getByLabelText("Display name for Rival Bakery") as HTMLInputElement;
    expect(input.maxLength).toBe(100);
    expect(input.placeholder).toBe("Rival Bakery");
    fireEvent.change(input, { target: { value: "  The rival  " } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(onChange).toHaveBeenCalledWith("rival", { display_name: "The rival" }));
    await waitFor(() => expect(screen.queryByLabelText("Display name for Rival Bakery")).toBeNull());

    fireEvent.click(screen.getByRole("button", { name: "Rename Main" }));
    const named = screen.getByLabelText("Display name for Frizz Bakes") as HTMLInputElement;
    expect(named.value).toBe("Main");
    fireEvent.keyDown(named, { key: "Escape" });
    expect(screen.queryByLabelText("Display name for Frizz Bakes")).toBeNull();

    fireEvent.click(screen.getByRole("button", { name: "Rename Main" }));
    fireEvent.change(screen.getByLabelText("Display name for Frizz Bakes"), { target: { value: "" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(onChange).toHaveBeenLastCalledWith("main", { display_name: null }));
  });

  it("a rejected name shows under the field; other errors as the banner by code", async () => {
    const onChange = vi.fn(async () => {
      throw validation("display_name", "Ensure this field has no more than 100 characters.");
    });
    renderList(onChange);
    fireEvent.click(screen.getByRole("button", { name: "Rename Rival Bakery" }));
    fireEvent.change(screen.getByLabelText("Display name for Rival Bakery"), { target: { value: "x" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    const message = await screen.findByRole("alert");
    expect(message.textContent).toContain("Name: Ensure this field has no more than 100 characters.");
    expect(screen.getByLabelText("Display name for Rival Bakery").getAttribute("aria-invalid")).toBe("true");
    expect(screen.queryByTestId("error-banner")).toBeNull();

    onChange.mockImplementation(async () => {
      throw ApiError.fromBody(404, { error: { code: "NOT_FOUND", message: "No such channel.", details: {} } });
    });
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alert")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Make Rival Bakery primary" }));
    const banner = await screen.findByTestId("error-banner");
    expect(banner.dataset.code).toBe("NOT_FOUND");
    expect(banner.textContent).toContain("No such channel.");
  });

  it("Delete asks first; Keep leaves the channel, Delete removes it", async () => {
    const { onDelete } = renderList();
    fireEvent.click(screen.getByRole("button", { name: "Delete Rival Bakery" }));
    const confirm = screen.getByRole("group", { name: "Delete Rival Bakery?" });
    expect(confirm.textContent).toContain("its 40 stored videos");
    expect(onDelete).not.toHaveBeenCalled();
    fireEvent.click(within(confirm).getByRole("button", { name: "Keep" }));
    expect(screen.queryByRole("group", { name: "Delete Rival Bakery?" })).toBeNull();
    expect(onDelete).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole("button", { name: "Delete Rival Bakery" }));
    fireEvent.click(within(screen.getByRole("group", { name: "Delete Rival Bakery?" })).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(onDelete).toHaveBeenCalledWith("rival"));
  });
});

describe("ChannelsScreen", () => {
  function page(results: Channel[]) {
    return { count: results.length, next: null, previous: null, results };
  }

  it("lists own channels first and the competitors under their heading", async () => {
    apiMock.channels.mockResolvedValue(page([MAIN, SHORTS, RIVAL]));
    render(<ChannelsScreen />);
    await screen.findByRole("link", { name: "Main" });
    const items = screen.getAllByTestId("channel-item");
    expect(items.map((li) => li.dataset.channelId)).toEqual(["main", "shorts", "rival"]);
    const heading = screen.getByRole("heading", { name: "Competitors" });
    expect(heading.compareDocumentPosition(item("Rival Bakery")) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(heading.compareDocumentPosition(item("Frizz Shorts")) & Node.DOCUMENT_POSITION_PRECEDING).toBeTruthy();
  });

  it("a change is sent, then the list is read again (other channels may move)", async () => {
    apiMock.channels.mockResolvedValueOnce(page([MAIN, SHORTS, RIVAL]));
    apiMock.channels.mockResolvedValueOnce(
      page([{ ...SHORTS, primary: true }, { ...MAIN, primary: false }, RIVAL]),
    );
    apiMock.updateChannel.mockResolvedValue({ ...SHORTS, primary: true });
    render(<ChannelsScreen />);
    fireEvent.click(await screen.findByRole("button", { name: "Make Frizz Shorts primary" }));
    await waitFor(() => expect(apiMock.channels).toHaveBeenCalledTimes(2));
    expect(apiMock.updateChannel).toHaveBeenCalledWith("shorts", { primary: true });
    await waitFor(() => expect(item("Frizz Shorts").dataset.primary).toBe("true"));
    expect(screen.getByRole("button", { name: "Make Main primary" })).toBeTruthy();
  });

  it("deleting the open channel closes it and reloads the list", async () => {
    nav.params = new URLSearchParams("id=rival");
    apiMock.channels.mockResolvedValueOnce(page([MAIN, RIVAL])).mockResolvedValueOnce(page([MAIN]));
    apiMock.deleteChannel.mockResolvedValue(null);
    apiMock.videos.mockReturnValue(new Promise(() => {}));
    apiMock.outliers.mockReturnValue(new Promise(() => {}));
    apiMock.uploadStreak.mockReturnValue(new Promise(() => {}));
    render(<ChannelsScreen />);
    fireEvent.click(await screen.findByRole("button", { name: "Delete Rival Bakery" }));
    fireEvent.click(within(screen.getByRole("group", { name: "Delete Rival Bakery?" })).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(apiMock.deleteChannel).toHaveBeenCalledWith("rival"));
    await waitFor(() => expect(nav.push).toHaveBeenCalledWith("/channels"));
    await waitFor(() => expect(screen.queryByRole("link", { name: "Rival Bakery" })).toBeNull());
  });

  it("says so when no channel is marked own", async () => {
    apiMock.channels.mockResolvedValue(page([RIVAL]));
    render(<ChannelsScreen />);
    expect(await screen.findByText(/None is marked as yours/)).toBeTruthy();
  });
});
