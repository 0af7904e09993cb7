/** The chat's UI message type: the backend's data parts and message metadata, typed. */
import type { UIMessage } from "ai";
import type { Usage } from "@/lib/api/schemas";

export type PlannedCall = { call_id: string; name: string; args?: Record<string, unknown> };

export type ChatDataParts = {
  /** run.started: the model the run uses. */
  run: { model: string; offline?: boolean };
  /** The agent's plan: which tools it will call. */
  plan: { tool_calls: PlannedCall[] };
  /** A tool's progress; one part per call (`id: progress:<call_id>`), replaced in place. */
  progress: { call_id: string; done: number; total: number | null; message: string };
  /** The latest model call's usage and the run's cost so far (`id: usage`). */
  usage: {
    model: string;
    input_tokens: number;
    output_tokens: number;
    cost_usd: string;
    run_cost_usd?: string;
  };
  /** A retried run withdraws the answer text streamed so far. */
  "message-reset": { message_id: string };
  /** Replay restarted from storage: what came before is void. */
  "stream-reset": Record<string, never>;
  "guard-warning": { message?: string; [key: string]: unknown };
  /** What a tool call waiting for approval would cost (`id: approval:<approval_id>`). */
  approval: ApprovalAsk;
};

export type ApprovalAsk = {
  approval_id: string;
  call_id: string;
  name: string;
  args: Record<string, unknown>;
  reason: string;
  estimate: { model: string; worst_case_usd: number; youtube_units: number };
  expires_at?: string;
};

export type ChatMetadata = {
  run_id?: string;
  session_id?: string | null;
  /** The run's totals, from the `finish` part (or the transcript). */
  usage?: Usage | null;
  /** From the transcript (history has no `data-run` part). */
  model?: string;
  offline?: boolean;
  /** A run that ended without an answer (from the transcript). */
  status?: string;
  /** The answer was cut short by Stop (from the transcript). */
  stopped?: boolean;
  error?: { code: string; message: string } | null;
  /** The versions in this message's place (from the transcript). */
  siblings?: { index: number; count: number; ids: string[] };
};

export type ChatUIMessage = UIMessage<ChatMetadata, ChatDataParts>;
