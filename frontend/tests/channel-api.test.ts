import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "@/lib/api";
import { ApiError } from "@/lib/api/errors";
import { channelPageSchema, importSchema } from "@/lib/api/schemas";

afterEach(() => vi.unstubAllGlobals());

const LISTED = {
  id: "6f0c0f5e-2f7a-4c1e-9d59-0d2a3b0b8a11",
  external_id: "UCmain",
  title: "Frizz Bakes",
  display_name: "Main",
  name: "Main",
  handle: "@frizz",
  role: "own",
  primary: true,
  source: "youtube",
  video_count: 125,
  fetched_at: "2026-11-21T10:00:00Z",
};

function stubFetch(status: number, body: unknown) {
  const fetchMock = vi.fn(
    async (_path: string, _init?: RequestInit) =>
      new Response(status === 204 ? null : JSON.stringify(body), {
        status,
        headers: { "Content-Type": "application/json" },
      }),
  );
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

describe("channel workspace schemas", () => {
  it("reads the list with role, primary, display name, name and handle", () => {
    const rival = { ...LISTED, id: "r1", display_name: null, name: "Rival", title: "Rival", handle: null, role: "competitor", primary: false };
    const page = channelPageSchema.parse({ count: 2, next: null, previous: null, results: [LISTED, rival] });
    expect(page.results.map((c) => [c.name, c.role, c.primary])).toEqual([
      ["Main", "own", true],
      ["Rival", "competitor", false],
    ]);
    expect(page.results[1].display_name).toBeNull();
  });

  it("refuses a role the UI does not know", () => {
    const result = channelPageSchema.safeParse({ count: 1, next: null, previous: null, results: [{ ...LISTED, role: "owner" }] });
    expect(result.success).toBe(false);
  });

  it("reads an import's channels with their role (and without, from an older server)", () => {
    const base = { rows_read: 1, imported_rows: 1, rejected_rows: 0, rejected: [] };
    const entry = { id: "c1", title: "Alpha", status: "created", imported_rows: 1, video_count: 1 };
    const parsed = importSchema.parse({ ...base, channels: [{ ...entry, role: "own", primary: true }, entry] });
    expect(parsed.channels[0]).toMatchObject({ role: "own", primary: true });
    expect(parsed.channels[1].role).toBeUndefined();
  });
});

describe("channel workspace calls", () => {
  it("asks for 100 channels a page", async () => {
    const fetchMock = stubFetch(200, { count: 0, next: null, previous: null, results: [] });
    await api.channels();
    expect(fetchMock.mock.calls[0][0]).toBe("/api/channels/?page_size=100");
  });

  it("PATCHes a change as JSON with the anti-forgery header and reads the channel back", async () => {
    const fetchMock = stubFetch(200, { ...LISTED, display_name: null, name: "Frizz Bakes" });
    const channel = await api.updateChannel("a/b", { display_name: null });
    const [path, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe("/api/channels/a%2Fb/");
    expect(init.method).toBe("PATCH");
    expect(JSON.parse(String(init.body))).toEqual({ display_name: null });
    expect(new Headers(init.headers).get("X-Requested-With")).toBe("fetch");
    expect(channel.name).toBe("Frizz Bakes");
  });

  it("DELETE answers 204 with no body", async () => {
    const fetchMock = stubFetch(204, null);
    await expect(api.deleteChannel("c1")).resolves.toBeNull();
    expect((fetchMock.mock.calls[0][1] as RequestInit).method).toBe("DELETE");
  });

  it("a refused change is a typed error naming the field", async () => {
    stubFetch(400, {
      error: {
        code: "VALIDATION_ERROR",
        message: "primary: cannot be set to false; make another channel primary instead",
        details: { fields: { primary: ["cannot be set to false; make another channel primary instead"] } },
      },
    });
    const error = await api.updateChannel("c1", { role: "own" }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("VALIDATION_ERROR");
    expect((error as ApiError).details.fields).toHaveProperty("primary");
  });
});
