"use client";
/** "Generate": asks for a factoid and shows the request's live status and streamed text. */
import { useEffect, useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import { ApiError } from "@/lib/api/errors";
import { factoidSchema, type Factoid } from "@/lib/api/schemas";
import { phaseOf, type RunPhase } from "@/lib/run-events";
import { useRunFollow } from "@/hooks/use-run-follow";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/factoids.css";

const PHASE_WORDS: Record<RunPhase, string> = {
  queued: "Waiting for a worker…",
  running: "Writing…",
  succeeded: "Done: added to the feed.",
  failed: "Failed.",
  cancelled: "Cancelled.",
};

export function FactoidGenerator({
  defaultSubject,
  onGenerated,
}: {
  defaultSubject: string;
  onGenerated: (factoid: Factoid) => void;
}) {
  const [subject, setSubject] = useState("");
  const [request, setRequest] = useState<{ id: string; subject: string; streamUrl: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [submitting, setSubmitting] = useState(false);

  const follow = useRunFollow(request?.streamUrl ?? null, async () => {
    const status = await api.factoidRequest(request!.id);
    return {
      phase: phaseOf(status.status),
      result: status.factoid,
      error: status.error,
      text: status.factoid?.text ?? "",
    };
  });

  useEffect(() => {
    if (follow?.phase !== "succeeded") return;
    const parsed = factoidSchema.safeParse(follow.result);
    if (parsed.success) onGenerated(parsed.data);
  }, [follow?.phase, follow?.result, onGenerated]);

  async function generate(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      const started = await api.generateFactoid(subject.trim() || defaultSubject || undefined);
      setRequest({ id: started.request_id, subject: started.subject, streamUrl: started.stream_url });
    } catch (err) {
      // One pending request per subject: follow the one already running.
      const pending = err instanceof ApiError && err.code === "CONFLICT" ? err.details.request_id : null;
      if (typeof pending === "string") {
        const status = await api.factoidRequest(pending).catch(() => null);
        if (status) {
          setRequest({ id: status.request_id, subject: status.subject ?? "", streamUrl: status.stream_url });
          return;
        }
      }
      setError(err);
    } finally {
      setSubmitting(false);
    }
  }

  const running = follow !== null && (follow.phase === "queued" || follow.phase === "running");
  return (
    <section className="card generator" aria-labelledby="generate-heading">
      <h2 id="generate-heading">Generate a factoid</h2>
      <form onSubmit={generate} className="inline-form">
        <label>
          Subject (optional)
          <input
            value={subject}
            list="factoid-subjects"
            maxLength={100}
            placeholder={defaultSubject || "Let us pick one"}
            onChange={(event) => setSubject(event.target.value)}
          />
        </label>
        <button type="submit" disabled={submitting || running}>
          Generate
        </button>
      </form>
      {request && follow && (
        <div className="generation" data-testid="factoid-generation" data-status={follow.phase}>
          <p role="status" className="small">
            <strong>{request.subject}</strong>: {PHASE_WORDS[follow.phase]}
            {follow.model === "offline" ? " (offline model)" : ""}
          </p>
          {follow.text && <blockquote className={running ? "streaming" : undefined}>{follow.text}</blockquote>}
          {follow.error && (
            <ErrorBanner error={ApiError.fromStreamText(`${follow.error.code}: ${follow.error.message}`)} />
          )}
        </div>
      )}
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
    </section>
  );
}
