/** One tool call: its name, arguments, live progress, then its result or error. */
import type { ToolStep } from "@/lib/run-steps";
import { argsSummary, toolLabel } from "@/lib/tool-labels";
import { useState } from "react";
import { ToolResult } from "@/components/tool-result";
import "@/styles/run-view.css";

const STATE_WORDS = {
  running: "Running",
  done: "Done",
  error: "Failed",
  approval: "Needs your approval",
  denied: "Declined",
} as const;

/** The creator's answer to an approval (AI SDK `addToolApprovalResponse`). */
export type ApprovalAnswer = (answer: { id: string; approved: boolean; reason?: string }) => void;
/** Approve with edited arguments (over REST); resolves to an error message, or null when sent. */
export type ApprovalEdit = (answer: { id: string; args: Record<string, unknown> }) => Promise<string | null>;

/** The agent's own model call (approved before it is made) rather than a tool. */
const MODEL_CALL = "model_call";

function estimateWords(ask: NonNullable<ToolStep["ask"]>): string {
  const parts = [`up to $${ask.estimate.worst_case_usd.toFixed(4)}`];
  if (ask.estimate.youtube_units) parts.push(`${ask.estimate.youtube_units} YouTube quota units`);
  parts.push(`model ${ask.estimate.model}`);
  return parts.join(" · ");
}

function ApprovalPanel({
  step,
  onAnswer,
  onEdit,
}: {
  step: ToolStep;
  onAnswer?: ApprovalAnswer;
  onEdit?: ApprovalEdit;
}) {
  const id = step.approvalId;
  const [draft, setDraft] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const editable = step.name !== MODEL_CALL && Boolean(onEdit);

  const sendEdit = async () => {
    if (!id || !onEdit || draft === null) return;
    let args: unknown;
    try {
      args = JSON.parse(draft);
    } catch {
      setProblem("The arguments must be JSON, e.g. {\"topic\": \"latte art\"}.");
      return;
    }
    if (!args || typeof args !== "object" || Array.isArray(args)) {
      setProblem("The arguments must be a JSON object.");
      return;
    }
    setSending(true);
    const error = await onEdit({ id, args: args as Record<string, unknown> });
    setSending(false);
    setProblem(error);
    if (!error) setDraft(null);
  };

  return (
    <div className="approval" data-testid="approval-card">
      {step.ask && (
        <p className="small">
          <strong>Why:</strong> {step.ask.reason}. <strong>Estimate:</strong> {estimateWords(step.ask)}
        </p>
      )}
      {draft !== null && (
        <form
          className="approval-edit"
          onSubmit={(event) => {
            event.preventDefault();
            void sendEdit();
          }}
        >
          <label className="small" htmlFor={`args-${id}`}>
            Arguments (JSON)
          </label>
          <textarea
            id={`args-${id}`}
            value={draft}
            rows={Math.min(8, draft.split("\n").length + 1)}
            onChange={(event) => setDraft(event.target.value)}
          />
          <div className="approval-actions">
            <button type="submit" disabled={sending}>
              Approve with these
            </button>
            <button type="button" className="ghost" onClick={() => (setDraft(null), setProblem(null))}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {problem && (
        <p className="tool-error small" role="alert">
          {problem}
        </p>
      )}
      {draft === null && (
        <div className="approval-actions">
          <button
            type="button"
            disabled={!id || !onAnswer}
            onClick={() => id && onAnswer?.({ id, approved: true })}
          >
            Approve
          </button>
          {editable && (
            <button
              type="button"
              className="ghost"
              disabled={!id}
              onClick={() => setDraft(JSON.stringify(step.args ?? {}, null, 2))}
            >
              Edit
            </button>
          )}
          <button
            type="button"
            className="ghost"
            disabled={!id || !onAnswer}
            onClick={() => id && onAnswer?.({ id, approved: false, reason: "declined in the chat" })}
          >
            Deny
          </button>
        </div>
      )}
    </div>
  );
}

export function ToolCard({
  step,
  onApproval,
  onApprovalEdit,
}: {
  step: ToolStep;
  onApproval?: ApprovalAnswer;
  onApprovalEdit?: ApprovalEdit;
}) {
  const label = toolLabel(step.name);
  const args = argsSummary(step.args);
  const { progress } = step;
  return (
    <article
      className={`tool-card tool-${step.state}`}
      data-testid="tool-card"
      data-tool-name={step.name}
      data-state={step.state}
      aria-label={`${label}: ${STATE_WORDS[step.state].toLowerCase()}`}
    >
      <header className="tool-head">
        <h3>{label}</h3>
        <span className={`state state-${step.state}`}>{STATE_WORDS[step.state]}</span>
      </header>
      {args && <p className="tool-args small">{args}</p>}
      {step.state === "running" && (
        <div className="tool-progress">
          {progress?.total ? (
            <progress value={progress.done} max={progress.total} aria-label={`${label} progress`} />
          ) : (
            <progress aria-label={`${label} progress`} />
          )}
          <span className="small muted">
            {progress
              ? `${progress.message}${progress.total ? ` (${progress.done}/${progress.total})` : ""}`
              : "Starting…"}
          </span>
        </div>
      )}
      {step.state === "done" && step.name === MODEL_CALL && (
        <p className="muted small">Approved: the answer follows.</p>
      )}
      {step.state === "done" && step.name !== MODEL_CALL && (
        <details className="tool-output" open>
          <summary>Result{progress?.message ? `: ${progress.message}` : ""}</summary>
          <ToolResult name={step.name} output={step.output} />
        </details>
      )}
      {step.state === "error" && <p className="tool-error">{step.errorText ?? "The tool failed."}</p>}
      {step.state === "approval" && <ApprovalPanel step={step} onAnswer={onApproval} onEdit={onApprovalEdit} />}
      {step.state === "denied" && <p className="muted small">You declined this step; the assistant answers without it.</p>}
    </article>
  );
}
