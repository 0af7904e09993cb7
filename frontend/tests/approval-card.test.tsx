import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import type { UIMessageChunk } from "ai";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RunView } from "@/components/run-view";
import { toMessage } from "./helpers";

afterEach(cleanup);

const ASK = {
  approval_id: "ap-1",
  call_id: "call-1",
  name: "keyword_research",
  args: { seed: "home espresso" },
  reason: "may cost up to $0.0620 (over $0.05)",
  estimate: { model: "openai/gpt-4o", worst_case_usd: 0.062, youtube_units: 300 },
};

// What the backend's UI stream sends when a run stops to wait for an approval.
function waitingChunks(): UIMessageChunk[] {
  return [
    { type: "start", messageMetadata: { run_id: "run-1", session_id: "s-1" } },
    { type: "start-step" },
    { type: "tool-input-available", toolCallId: "call-1", toolName: "keyword_research", input: ASK.args },
    { type: "tool-approval-request", approvalId: "ap-1", toolCallId: "call-1" },
    { type: "data-approval", id: "approval:ap-1", data: ASK },
    { type: "finish-step" },
    { type: "finish", messageMetadata: { run_id: "run-1", session_id: "s-1" } },
  ] as UIMessageChunk[];
}

describe("approval card", () => {
  it("shows what, why and the estimate, and answers with the approval id", async () => {
    const onApproval = vi.fn();
    const message = await toMessage(waitingChunks());
    render(<RunView message={message} active={false} onApproval={onApproval} />);

    const [card] = screen.getAllByTestId("tool-card");
    expect(card.dataset.state).toBe("approval");
    const panel = within(card).getByTestId("approval-card");
    expect(panel.textContent).toContain("may cost up to $0.0620");
    expect(panel.textContent).toContain("up to $0.0620 · 300 YouTube quota units · model openai/gpt-4o");

    fireEvent.click(within(panel).getByRole("button", { name: "Approve" }));
    expect(onApproval).toHaveBeenCalledWith({ id: "ap-1", approved: true });
    fireEvent.click(within(panel).getByRole("button", { name: "Deny" }));
    expect(onApproval).toHaveBeenLastCalledWith({ id: "ap-1", approved: false, reason: "declined in the chat" });
  });

  it("a denied call says so instead of failing", async () => {
    const chunks = waitingChunks();
    chunks.splice(5, 0, { type: "tool-output-denied", toolCallId: "call-1" } as UIMessageChunk);
    const message = await toMessage(chunks);
    render(<RunView message={message} active={false} />);

    const [card] = screen.getAllByTestId("tool-card");
    expect(card.dataset.state).toBe("denied");
    expect(card.textContent).toContain("You declined this step");
    expect(within(card).queryByTestId("approval-card")).toBeNull();
  });

  it("edits the arguments as JSON and approves with them, showing the server's objection", async () => {
    const onApprovalEdit = vi
      .fn()
      .mockResolvedValueOnce("count: Ensure this value is less than or equal to 30.")
      .mockResolvedValueOnce(null);
    const message = await toMessage(waitingChunks());
    render(<RunView message={message} active={false} onApproval={vi.fn()} onApprovalEdit={onApprovalEdit} />);
    const panel = screen.getByTestId("approval-card");

    fireEvent.click(within(panel).getByRole("button", { name: "Edit" }));
    const box = within(panel).getByLabelText("Arguments (JSON)") as HTMLTextAreaElement;
    expect(JSON.parse(box.value)).toEqual({ seed: "home espresso" });

    fireEvent.change(box, { target: { value: "{not json" } });
    fireEvent.click(within(panel).getByRole("button", { name: "Approve with these" }));
    expect(within(panel).getByRole("alert").textContent).toContain("must be JSON");
    expect(onApprovalEdit).not.toHaveBeenCalled();

    fireEvent.change(box, { target: { value: '{"seed": "latte art", "count": 500}' } });
    fireEvent.click(within(panel).getByRole("button", { name: "Approve with these" }));
    await waitFor(() => expect(within(panel).getByRole("alert").textContent).toContain("less than or equal to 30"));
    expect(onApprovalEdit).toHaveBeenLastCalledWith({ id: "ap-1", args: { seed: "latte art", count: 500 } });

    fireEvent.change(box, { target: { value: '{"seed": "latte art"}' } });
    fireEvent.click(within(panel).getByRole("button", { name: "Approve with these" }));
    await waitFor(() => expect(within(panel).queryByRole("alert")).toBeNull());
    expect(onApprovalEdit).toHaveBeenLastCalledWith({ id: "ap-1", args: { seed: "latte art" } });
  });

  it("a model call's approval has nothing to edit and, approved, says the answer follows", async () => {
    const ask = { ...ASK, call_id: "model-plan-1", name: "model_call", args: { feature: "plan", model: "m" } };
    const chunks = [
      { type: "start", messageMetadata: { run_id: "run-1", session_id: "s-1" } },
      { type: "start-step" },
      { type: "tool-input-available", toolCallId: ask.call_id, toolName: "model_call", input: ask.args },
      { type: "tool-approval-request", approvalId: "ap-1", toolCallId: ask.call_id },
      { type: "data-approval", id: "approval:ap-1", data: ask },
    ] as UIMessageChunk[];
    const waiting = await toMessage(chunks);
    render(<RunView message={waiting} active={false} onApproval={vi.fn()} onApprovalEdit={vi.fn()} />);
    const [card] = screen.getAllByTestId("tool-card");
    expect(within(card).getByRole("heading").textContent).toBe("Model call");
    expect(within(card).queryByRole("button", { name: "Edit" })).toBeNull();
    cleanup();

    const approved = await toMessage([
      ...chunks,
      { type: "tool-output-available", toolCallId: ask.call_id, output: { approved: true } } as UIMessageChunk,
    ]);
    render(<RunView message={approved} active={false} />);
    expect(screen.getByTestId("tool-card").textContent).toContain("Approved: the answer follows.");
  });
});
