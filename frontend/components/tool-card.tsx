/** One tool call: its name, arguments, live progress, then its result or error. */
import type { ToolStep } from "@/lib/run-steps";
import { argsSummary, toolLabel } from "@/lib/tool-labels";
import { ToolResult } from "@/components/tool-result";
import "@/styles/run-view.css";

const STATE_WORDS = { running: "Running", done: "Done", error: "Failed" } as const;

export function ToolCard({ step }: { step: ToolStep }) {
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
    </article>
  );
}
