/**
 * Turns an assistant UI message (its parts, as `useChat` builds them from the backend's
 * UI message stream) into the run's steps as people see them: the plan, one card per tool
 * call with its progress and result, the answer text, and the usage line. Pure, so the
 * recorded stream can test it.
 */
import { getToolName, isToolUIPart } from "ai";
import type { ApprovalAsk, ChatDataParts, ChatUIMessage, PlannedCall } from "@/lib/chat-types";

/** `approval`: waiting for the creator's yes or no; `denied`: they said no. */
export type ToolState = "running" | "done" | "error" | "approval" | "denied";

export type Progress = { done: number; total: number | null; message: string };

export type PlanStep = { kind: "plan"; key: string; calls: PlannedCall[] };

export type ToolStep = {
  kind: "tool";
  key: string;
  callId: string;
  name: string;
  args: unknown;
  state: ToolState;
  progress: Progress | null;
  output?: unknown;
  errorText?: string;
  /** Set while the call waits for approval: what to answer, and what was asked. */
  approvalId?: string;
  ask?: ApprovalAsk;
};

export type TextStep = { kind: "text"; key: string; text: string; streaming: boolean };

export type Step = PlanStep | ToolStep | TextStep;

export type UsageView = {
  model: string | null;
  offline: boolean;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: string | null;
  /** True once the run's totals arrived; before that the numbers are the cost so far. */
  final: boolean;
};

export type RunSteps = {
  runId: string | null;
  steps: Step[];
  /** All answer text, in order (after any reset). */
  answer: string;
  usage: UsageView | null;
  warnings: string[];
  /** A run the transcript knows ended without an answer. */
  error: { code: string; message: string } | null;
};

type Part = ChatUIMessage["parts"][number];

function isData<K extends keyof ChatDataParts>(
  part: Part,
  name: K,
): part is Extract<Part, { type: `data-${K}` }> {
  return part.type === `data-${name}`;
}

/**
 * `active`: the message is still streaming. A tool call without a result in a finished
 * message did not finish (the run was stopped or failed), so it shows as an error.
 */
export function toRunSteps(message: ChatUIMessage, opts: { active?: boolean } = {}): RunSteps {
  const active = opts.active ?? false;
  let steps: Step[] = [];
  const progress = new Map<string, Progress>();
  const warnings: string[] = [];
  let runModel: { model: string; offline?: boolean } | null = null;
  let liveUsage: ChatDataParts["usage"] | null = null;
  const asks = new Map<string, ApprovalAsk>();

  message.parts.forEach((part, index) => {
    if (isData(part, "stream-reset")) {
      steps = [];
      progress.clear();
      return;
    }
    if (isData(part, "message-reset")) {
      steps = steps.filter((step) => step.kind !== "text");
      return;
    }
    if (isData(part, "run")) {
      runModel = part.data;
      return;
    }
    if (isData(part, "usage")) {
      liveUsage = part.data;
      return;
    }
    if (isData(part, "progress")) {
      progress.set(part.data.call_id, {
        done: part.data.done,
        total: part.data.total,
        message: part.data.message,
      });
      return;
    }
    if (isData(part, "guard-warning")) {
      const text = typeof part.data.message === "string" ? part.data.message : "Budget warning";
      warnings.push(text);
      return;
    }
    if (isData(part, "approval")) {
      asks.set(part.data.call_id, part.data);
      return;
    }
    if (isData(part, "plan")) {
      const calls = part.data.tool_calls ?? [];
      if (calls.length) steps.push({ kind: "plan", key: `plan-${index}`, calls });
      return;
    }
    if (part.type === "text") {
      const last = steps[steps.length - 1];
      const streaming = part.state === "streaming";
      if (last?.kind === "text") {
        last.text += part.text;
        last.streaming = streaming;
      } else if (part.text) {
        steps.push({ kind: "text", key: `text-${index}`, text: part.text, streaming });
      }
      return;
    }
    if (isToolUIPart(part)) {
      let state: ToolState = "running";
      if (part.state === "output-available") state = "done";
      else if (part.state === "output-error") state = "error";
      else if (part.state === "output-denied") state = "denied";
      else if (part.state === "approval-requested") state = "approval";
      const step: ToolStep = {
        kind: "tool",
        key: `tool-${part.toolCallId}`,
        callId: part.toolCallId,
        name: getToolName(part),
        args: part.input,
        state,
        progress: null,
      };
      if (part.state === "output-available") step.output = part.output;
      if (part.state === "output-error") step.errorText = part.errorText;
      if (part.state === "approval-requested") step.approvalId = part.approval.id;
      if (state === "running" && !active && part.state !== "approval-responded") {
        step.state = "error";
        step.errorText = "Did not finish: the run stopped.";
      }
      steps.push(step);
    }
  });

  for (const step of steps) {
    if (step.kind === "tool") {
      step.progress = progress.get(step.callId) ?? null;
      step.ask = asks.get(step.callId);
    }
    if (step.kind === "text" && !active) step.streaming = false;
  }

  const answer = steps
    .filter((step): step is TextStep => step.kind === "text")
    .map((step) => step.text)
    .join("\n\n");

  return {
    runId: message.metadata?.run_id ?? null,
    steps,
    answer,
    usage: usageView(message, runModel, liveUsage),
    warnings,
    error: message.metadata?.error ?? null,
  };
}

function usageView(
  message: ChatUIMessage,
  runModel: { model: string; offline?: boolean } | null,
  live: ChatDataParts["usage"] | null,
): UsageView | null {
  const meta = message.metadata;
  const model = runModel?.model ?? meta?.model ?? live?.model ?? null;
  const offline = Boolean(runModel?.offline ?? meta?.offline ?? model === "offline");
  const totals = meta?.usage;
  if (totals) {
    return {
      model,
      offline,
      inputTokens: totals.input_tokens,
      outputTokens: totals.output_tokens,
      costUsd: totals.cost_usd,
      final: true,
    };
  }
  if (!model && !live) return null;
  return {
    model,
    offline,
    inputTokens: null,
    outputTokens: null,
    costUsd: live?.run_cost_usd ?? null,
    final: false,
  };
}

/** The usage line's words, e.g. "2,698 tokens in · 673 out · $0.000000 · offline model". */
export function formatUsage(usage: UsageView): string {
  const parts: string[] = [];
  const n = (value: number) => value.toLocaleString("en-US");
  if (usage.inputTokens !== null && usage.outputTokens !== null) {
    parts.push(`${n(usage.inputTokens)} tokens in`, `${n(usage.outputTokens)} out`);
  }
  if (usage.costUsd !== null) parts.push(`${usage.final ? "" : "so far "}$${usage.costUsd}`);
  if (usage.offline) parts.push("offline model");
  else if (usage.model) parts.push(`model ${usage.model}`);
  return parts.join(" · ");
}

/** The last message's run id: what Stop cancels. */
export function activeRunId(messages: ChatUIMessage[]): string | null {
  const last = messages[messages.length - 1];
  return last?.role === "assistant" ? (last.metadata?.run_id ?? null) : null;
}
