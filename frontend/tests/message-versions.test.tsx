import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { VersionSwitcher } from "@/components/message-versions";
import { transcriptToMessages } from "@/lib/transcript";

afterEach(cleanup);

describe("versions of a message", () => {
  it("switches to the previous and next version by id", () => {
    const onSwitch = vi.fn();
    render(<VersionSwitcher siblings={{ index: 2, count: 3, ids: ["a", "b", "c"] }} onSwitch={onSwitch} />);
    expect(screen.getByTestId("versions").textContent).toContain("2/3");
    fireEvent.click(screen.getByRole("button", { name: "Previous version" }));
    expect(onSwitch).toHaveBeenLastCalledWith("a");
    fireEvent.click(screen.getByRole("button", { name: "Next version" }));
    expect(onSwitch).toHaveBeenLastCalledWith("c");
  });

  it("shows nothing for a message with one version", () => {
    render(<VersionSwitcher siblings={{ index: 1, count: 1, ids: ["a"] }} onSwitch={() => {}} />);
    expect(screen.queryByTestId("versions")).toBeNull();
  });

  it("the transcript's sibling counts reach both roles' metadata", () => {
    const siblings = { index: 2, count: 2, ids: ["u0", "u1"] };
    const { messages } = transcriptToMessages({
      id: "s",
      title: "",
      model: "offline",
      created_at: "2026-12-02T00:00:00Z",
      stream_url: "/x",
      messages: [
        { id: "u1", role: "user", content: "hi", tool_results: [], run_id: "r1", parent_id: null, siblings, created_at: "" },
        {
          id: "a1", role: "assistant", content: "hello", tool_results: [], run_id: "r1", parent_id: "u1",
          siblings: { index: 1, count: 1, ids: ["a1"] }, created_at: "",
        },
      ],
      runs: [{ id: "r1", status: "completed", model: "offline", usage: null, error: null }],
    } as never);
    expect(messages[0].metadata?.siblings).toEqual(siblings);
    expect(messages[1].metadata?.siblings?.count).toBe(1);
  });
});
