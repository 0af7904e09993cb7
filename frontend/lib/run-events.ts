/**
 * A backend run's SSE events (GET /api/runs/{id}/stream/, /api/factoids/streams/{id}/)
 * folded into what a status line shows. Pure: the hook feeds it EventSource messages.
 */

export type RunPhase = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export type RunFollow = {
  phase: RunPhase;
  text: string;
  progress: { done: number; total: number | null; message: string } | null;
  result: unknown;
  error: { code: string; message: string } | null;
  model: string | null;
};

export const RUN_EVENT_TYPES = [
  "run.queued",
  "run.started",
  "tool.started",
  "tool.progress",
  "tool.completed",
  "tool.failed",
  "message.delta",
  "message.reset",
  "message.completed",
  "stream.reset",
  "run.completed",
  "run.failed",
  "run.cancelled",
] as const;

export const INITIAL_RUN: RunFollow = {
  phase: "queued",
  text: "",
  progress: null,
  result: null,
  error: null,
  model: null,
};

export function isTerminal(phase: RunPhase): boolean {
  return phase === "succeeded" || phase === "failed" || phase === "cancelled";
}

type Data = Record<string, unknown>;

export function reduceRunEvent(state: RunFollow, type: string, data: Data): RunFollow {
  switch (type) {
    case "run.queued":
      return { ...state, phase: "queued" };
    case "run.started":
      return { ...state, phase: "running", model: typeof data.model === "string" ? data.model : state.model };
    case "tool.progress":
      return {
        ...state,
        phase: "running",
        progress: {
          done: Number(data.done ?? 0),
          total: typeof data.total === "number" ? data.total : null,
          message: String(data.message ?? ""),
        },
      };
    case "message.delta":
      return { ...state, phase: "running", text: state.text + String(data.text ?? "") };
    case "message.reset":
    case "stream.reset":
      return { ...state, text: "" };
    case "message.completed":
      return { ...state, text: String(data.text ?? state.text) };
    case "run.completed":
      return { ...state, phase: "succeeded", result: data.result ?? null };
    case "run.failed": {
      const error = (data.error ?? {}) as Data;
      return {
        ...state,
        phase: "failed",
        error: { code: String(error.code ?? "INTERNAL_ERROR"), message: String(error.message ?? "") },
      };
    }
    case "run.cancelled":
      return { ...state, phase: "cancelled" };
    default:
      return state;
  }
}

/** A run's REST status (`queued`, `running`, `completed`, …) as a phase. */
export function phaseOf(status: string): RunPhase {
  switch (status) {
    case "completed":
    case "succeeded":
      return "succeeded";
    case "failed":
      return "failed";
    case "cancelled":
      return "cancelled";
    case "running":
      return "running";
    default:
      return "queued";
  }
}
