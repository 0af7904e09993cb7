"use client";
/**
 * Follows a backend run live over its SSE `stream_url` (EventSource resumes by itself with
 * Last-Event-ID); when the stream cannot be used, polls the run's status instead.
 */
import { useEffect, useState } from "react";
import { INITIAL_RUN, RUN_EVENT_TYPES, isTerminal, reduceRunEvent, type RunFollow } from "@/lib/run-events";

const POLL_MS = 1500;

export function useRunFollow(
  streamUrl: string | null,
  poll: () => Promise<Partial<RunFollow>>,
): RunFollow | null {
  const [state, setState] = useState<RunFollow | null>(null);

  useEffect(() => {
    if (!streamUrl) {
      setState(null);
      return;
    }
    let current: RunFollow = INITIAL_RUN;
    let closed = false;
    let timer: number | undefined;
    const update = (next: RunFollow) => {
      current = next;
      setState(next);
    };
    update(INITIAL_RUN);

    const pollOnce = async () => {
      if (closed) return;
      try {
        update({ ...current, ...(await poll()) });
      } catch {
        /* try again */
      }
      if (!closed && !isTerminal(current.phase)) timer = window.setTimeout(pollOnce, POLL_MS);
    };

    const source = new EventSource(streamUrl, { withCredentials: true });
    const onEvent = (event: MessageEvent<string>) => {
      try {
        const payload = JSON.parse(event.data) as { type?: string; data?: Record<string, unknown> };
        update(reduceRunEvent(current, payload.type ?? event.type, payload.data ?? {}));
      } catch {
        return;
      }
      if (isTerminal(current.phase)) source.close();
    };
    for (const type of RUN_EVENT_TYPES) source.addEventListener(type, onEvent as EventListener);
    source.onerror = () => {
      if (isTerminal(current.phase)) {
        source.close();
      } else if (source.readyState === EventSource.CLOSED) {
        void pollOnce();
      }
    };

    return () => {
      closed = true;
      source.close();
      window.clearTimeout(timer);
    };
    // `poll` is a fresh function each render; the stream URL alone names the run.
  }, [streamUrl]);

  return state;
}
