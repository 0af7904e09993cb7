import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { RunView } from "@/components/run-view";
import { transcriptToMessages } from "@/lib/transcript";
import { fixtureChunks, toMessage, until } from "./helpers";

afterEach(cleanup);

describe("RunView", () => {
  it("renders the finished run: plan, tool cards with people's views, answer, usage", async () => {
    const message = await toMessage(fixtureChunks());
    const { container } = render(<RunView message={message} active={false} />);

    expect(screen.getByRole("region", { name: "Plan" }).textContent).toContain("Keyword research");

    const cards = screen.getAllByTestId("tool-card");
    expect(cards.map((card) => [card.dataset.toolName, card.dataset.state])).toEqual([
      ["content_ideas", "done"],
      ["keyword_research", "done"],
      ["hashtags", "done"],
    ]);

    // content_ideas: one card per concept
    const ideas = within(cards[0]).getAllByRole("heading", { level: 4 });
    expect(ideas.map((h) => h.textContent)).toEqual([
      "7 home espresso mistakes beginners make",
      "I tried home espresso every day for 30 days",
      "Home espresso on a budget: what is actually worth it",
    ]);
    expect(cards[0].textContent).toContain("SEO 96/100");

    // keyword_research: tables with a null value's reason
    const keywordTables = within(cards[1]).getAllByRole("table");
    expect(keywordTables[0].querySelector("caption")?.textContent).toBe("Primary keywords");
    expect(within(keywordTables[0]).getByRole("rowheader", { name: "home espresso" })).toBeTruthy();
    // (a result recorded before `search_volume` was renamed: shown as the views proxy)
    expect(within(keywordTables[0]).getByRole("columnheader", { name: /Views\/month of matching videos/ })).toBeTruthy();
    expect(within(keywordTables[0]).getAllByTestId("figure-missing")[0].title).toBe("the corpus is empty");
    const keywordNotes = within(cards[1]).getAllByRole("list", { name: "Why some figures are missing" });
    expect(keywordNotes[0].textContent).toContain("the corpus is empty");

    // hashtags: a table, suggestions marked
    const hashtagRows = within(within(cards[2]).getByRole("table")).getAllByRole("row");
    expect(hashtagRows).toHaveLength(4);
    expect(hashtagRows[1].textContent).toContain("#homeespresso");
    expect(hashtagRows[1].textContent).toContain("suggested");

    const answers = screen.getAllByTestId("assistant-answer");
    expect(answers).toHaveLength(1);
    expect(within(answers[0]).getByRole("heading", { level: 3, name: /Content ideas/ })).toBeTruthy();
    expect(answers[0].querySelector("strong")?.textContent).toBe("home espresso");

    expect(screen.getByTestId("usage-line").textContent).toBe(
      "2,698 tokens in · 673 out · $0.000000 · offline model",
    );
    expect(container.querySelector("progress")).toBeNull();
  });

  it("shows progress bars while tools run and no answer yet", async () => {
    const chunks = fixtureChunks();
    const message = await toMessage(until(chunks, (chunk) => chunk.type === "tool-output-available"));
    render(<RunView message={message} active />);
    const cards = screen.getAllByTestId("tool-card");
    expect(cards.map((card) => card.dataset.state)).toEqual(["running", "running", "done"]);
    const bar = within(cards[0]).getByRole("progressbar", { name: "Content ideas progress" });
    expect(bar.getAttribute("value")).toBe("1");
    expect(bar.getAttribute("max")).toBe("3");
    expect(cards[0].textContent).toContain("Asking for ideas (1/3)");
    expect(screen.queryByTestId("assistant-answer")).toBeNull();
    expect(screen.getByTestId("usage-line").textContent).toContain("offline model");
  });

  it("streams the answer text as it arrives", async () => {
    const chunks = fixtureChunks();
    const firstDeltas = chunks.findIndex((chunk) => chunk.type === "text-delta") + 3;
    const message = await toMessage(chunks.slice(0, firstDeltas));
    render(<RunView message={message} active />);
    const answer = screen.getByTestId("assistant-answer");
    expect(answer.className).toContain("streaming");
    expect(answer.textContent).toContain("Video ideas for home espresso");
  });
});


describe("a stopped answer from the transcript", () => {
  it("shows the text that streamed and says it was stopped", () => {
    const { messages } = transcriptToMessages({
      id: "s1",
      title: "t",
      model: "offline",
      created_at: "2026-01-01T00:00:00Z",
      runs: [{ id: "r1", status: "cancelled", model: "offline", usage: null, error: null }],
      messages: [
        { id: "u1", role: "user", content: "hashtags?", tool_results: [], run_id: "r1", created_at: "2026-01-01T00:00:00Z" },
        {
          id: "a1",
          role: "assistant",
          content: "Here are the first few",
          tool_results: [],
          stopped: true,
          run_id: "r1",
          created_at: "2026-01-01T00:00:01Z",
        },
      ],
    });
    const answer = messages[1];
    expect(answer.metadata?.stopped).toBe(true);
    render(<RunView message={answer} active={false} stopped={Boolean(answer.metadata?.stopped)} />);
    expect(screen.getByTestId("assistant-answer").textContent).toContain("Here are the first few");
    expect(screen.getByText("Stopped.")).toBeTruthy();
  });
});
