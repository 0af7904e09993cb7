/** One tool call: its name, arguments, live progress, then its result or error. */
import type { ToolStep } from "@/lib/run-steps";
import { argsSummary, toolLabel } from "@/lib/tool-labels";
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

function estimateWords(ask: NonNullable<ToolStep["ask"]>): string {
  const parts = [`up to $${ask.estimate.worst_case_usd.toFixed(4)}`];
  if (ask.estimate.youtube_units) parts.push(`${ask.estimate.youtube_units} YouTube quota units`);
  parts.push(`model ${ask.estimate.model}`);
  return parts.join(" · ");
}

function ApprovalPanel({ step, onAnswer }: { step: ToolStep; onAnswer?: ApprovalAnswer }) {
  const id = step.approvalId;
  return (
    <div className="approval" data-testid="approval-card">
      {step.ask && (
        <p className="small">
          <strong>Why:</strong> {step.ask.reason}. <strong>Estimate:</strong> {estimateWords(step.ask)}
        </p>
      )}
      <div className="approval-actions">
        <button
          type="button"
          disabled={!id || !onAnswer}
          onClick={() => id && onAnswer?.({ id, approved: true })}
        >
          Approve
        </button>
        <button
          type="button"
          className="ghost"
          disabled={!id || !onAnswer}
          onClick={() => id && onAnswer?.({ id, approved: false, reason: "declined in the chat" })}
        >
          Deny
        </button>
      </div>
    </div>
  );
}

export function ToolCard({ step, onApproval }: { step: ToolStep; onApproval?: ApprovalAnswer }) {
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
      {step.state === "done" && (
        <details className="tool-output" open>
          <summary>Result{progress?.message ? `: ${progress.message}` : ""}</summary>
          <ToolResult name={step.name} output={step.output} />
        </details>
      )}
      {step.state === "error" && <p className="tool-error">{step.errorText ?? "The tool failed."}</p>}
      {step.state === "approval" && <ApprovalPanel step={step} onAnswer={onApproval} />}
      {step.state === "denied" && <p className="muted small">You declined this step; the assistant answers without it.</p>}
    </article>
  );
}
