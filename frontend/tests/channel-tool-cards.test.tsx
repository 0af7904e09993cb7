/**
 * The chat cards of channel_outliers and upload_streak render the tools' real output: the
 * fixtures are the tools' JSON for Nonat1s (own channel) in the Pathfinder sample export,
 * observed 2023-06-15 (agents' tools over InMemoryAgentData).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ToolResult } from "@/components/tool-result";

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(process.cwd(), `tests/fixtures/${name}.json`), "utf8"));
}

afterEach(cleanup);

describe("channel tool cards", () => {
  it("shows the outliers of the named channel, its role and at most 12 rows", () => {
    const output = fixture("channel-outliers");
    render(<ToolResult name="channel_outliers" output={output} />);
    const card = screen.getByTestId("outliers-card");
    expect(within(card).getByText("Nonat1s")).toBeTruthy();
    expect(within(card).getByText("your channel")).toBeTruthy();
    const rows = within(card).getAllByRole("row").length - 1; // minus the header row
    expect(rows).toBe(Math.min(12, (output.videos as unknown[]).length));
  });

  it("shows the upload-consistency score and streaks", () => {
    const output = fixture("upload-streak");
    render(<ToolResult name="upload_streak" output={output} />);
    const card = screen.getByTestId("upload-streak-card");
    expect(within(card).getByText(String(output.score))).toBeTruthy();
    expect(within(card).getByText(/Weekly streak/)).toBeTruthy();
    expect(card.querySelectorAll(".week-bar").length).toBeGreaterThan(0);
  });

  it("falls back to the generic view for a result of another shape", () => {
    render(<ToolResult name="channel_outliers" output={{ channel_title: "x" }} />);
    expect(screen.queryByTestId("outliers-card")).toBeNull();
  });
});
