/** An assistant message as its run's steps: plan, tool cards, answer, usage line. */
import { memo } from "react";
import type { ChatUIMessage } from "@/lib/chat-types";
import { formatUsage, toRunSteps } from "@/lib/run-steps";
import { argsSummary, toolLabel } from "@/lib/tool-labels";
import { Markdown } from "@/components/markdown";
import { type ApprovalAnswer, type ApprovalEdit, ToolCard } from "@/components/tool-card";
import "@/styles/run-view.css";

export const RunView = memo(function RunView({
  message,
  active,
  stopped = false,
  onApproval,
  onApprovalEdit,
}: {
  message: ChatUIMessage;
  active: boolean;
  /** Stop was pressed for this run. */
  stopped?: boolean;
  /** Answers a tool call that waits for approval. */
  onApproval?: ApprovalAnswer;
  /** Approves a waiting tool call with edited arguments. */
  onApprovalEdit?: ApprovalEdit;
}) {
  const run = toRunSteps(message, { active });
  const working = active && !run.answer;
  return (
    <div className="run" data-run-id={run.runId ?? undefined}>
      {run.steps.map((step) => {
        if (step.kind === "plan") {
          return (
            <section key={step.key} className="plan" aria-label="Plan">
              <h3 className="small">Plan</h3>
              <ol>
                {step.calls.map((call) => (
                  <li key={call.call_id}>
                    <strong>{toolLabel(call.name)}</strong>
                    {call.args && Object.keys(call.args).length > 0 && (
                      <span className="muted"> — {argsSummary(call.args)}</span>
                    )}
                  </li>
                ))}
              </ol>
            </section>
          );
        }
        if (step.kind === "tool") return (
            <ToolCard key={step.key} step={step} onApproval={onApproval} onApprovalEdit={onApprovalEdit} />
          );
        return (
          <div
            key={step.key}
            className={`answer${step.streaming ? " streaming" : ""}`}
            data-testid="assistant-answer"
          >
            <Markdown text={step.text} />
          </div>
        );
      })}
      {working && (
        <p className="muted small working" aria-hidden="true">
          Working…
        </p>
      )}
      {run.warnings.map((warning, index) => (
        <p key={index} className="notice small">
          {warning}
        </p>
      ))}
      {stopped && !active && !run.error && <p className="notice small">Stopped.</p>}
      {run.error && (
        <p className="tool-error">
          {run.error.code === "CANCELLED" ? "Stopped." : `This run failed: ${run.error.message}`}
        </p>
      )}
      {run.usage && (
        <p className="usage-line small muted" data-testid="usage-line">
          {formatUsage(run.usage)}
        </p>
      )}
    </div>
  );
});
