"use client";
/** Add a channel from YouTube by handle, id or URL; the fetch is a run with live progress. */
import { useEffect, useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import { ApiError } from "@/lib/api/errors";
import { parseChannelRef } from "@/lib/channel-ref";
import { phaseOf, type RunPhase } from "@/lib/run-events";
import { useRunFollow } from "@/hooks/use-run-follow";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/channels.css";

const PHASE_WORDS: Record<RunPhase, string> = {
  queued: "Queued…",
  running: "Fetching from YouTube…",
  succeeded: "Added.",
  failed: "Failed.",
  cancelled: "Cancelled.",
};

function channelIdOf(result: unknown): string | null {
  const channel = (result as { channel?: { id?: unknown } } | null)?.channel;
  return typeof channel?.id === "string" ? channel.id : null;
}

export function ChannelAdd({ onAdded }: { onAdded: (channelId: string | null) => void }) {
  const [text, setText] = useState("");
  const [run, setRun] = useState<{ id: string; streamUrl: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const follow = useRunFollow(run?.streamUrl ?? null, async () => {
    const status = await api.run(run!.id);
    return { phase: phaseOf(status.status), result: status.result, error: status.error };
  });

  useEffect(() => {
    if (follow?.phase === "succeeded") onAdded(channelIdOf(follow.result));
  }, [follow?.phase, follow?.result, onAdded]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const ref = parseChannelRef(text);
    if (!ref) {
      setError(
        new ApiError({
          code: "VALIDATION_ERROR",
          status: 400,
          message: "Enter a handle (@name), a channel id (UC…) or a YouTube channel URL.",
        }),
      );
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const started = await api.addChannel(ref);
      setRun({ id: started.run_id, streamUrl: started.stream_url });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const running = follow !== null && (follow.phase === "queued" || follow.phase === "running");
  return (
    <form className="card side-form" onSubmit={submit} aria-labelledby="add-heading">
      <h2 id="add-heading">Add a channel</h2>
      <label htmlFor="channel-ref">Handle, channel id or URL</label>
      <input
        id="channel-ref"
        value={text}
        placeholder="@handle or https://youtube.com/@handle"
        onChange={(event) => setText(event.target.value)}
      />
      <button type="submit" disabled={busy || running || !text.trim()}>
        Add channel
      </button>
      {run && follow && (
        <div className="small" data-testid="channel-fetch" data-status={follow.phase}>
          <p role="status">
            {PHASE_WORDS[follow.phase]}
            {follow.progress ? ` ${follow.progress.message}` : ""}
          </p>
          {running && follow.progress?.total ? (
            <progress value={follow.progress.done} max={follow.progress.total} aria-label="Fetch progress" />
          ) : running ? (
            <progress aria-label="Fetch progress" />
          ) : null}
          {follow.error && (
            <ErrorBanner error={ApiError.fromStreamText(`${follow.error.code}: ${follow.error.message}`)} />
          )}
        </div>
      )}
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
    </form>
  );
}
