/** A stored session (GET /api/chat/sessions/{id}/) as the chat's UI messages. */
import type { Run, Transcript } from "@/lib/api/schemas";
import type { ChatUIMessage } from "@/lib/chat-types";

const ACTIVE = new Set(["queued", "running"]);

export function isActiveRun(run: Pick<Run, "status">): boolean {
  return ACTIVE.has(run.status);
}

export type LoadedTranscript = {
  messages: ChatUIMessage[];
  /** A run still in progress: its answer comes from resuming the stream. */
  activeRunId: string | null;
};

export function transcriptToMessages(transcript: Transcript): LoadedTranscript {
  const runs = new Map(transcript.runs.map((run) => [run.id, run]));
  const answered = new Set(
    transcript.messages.filter((m) => m.role === "assistant" && m.run_id).map((m) => m.run_id),
  );
  const messages: ChatUIMessage[] = [];
  for (const message of transcript.messages) {
    const run = message.run_id ? runs.get(message.run_id) : undefined;
    if (message.role === "user") {
      messages.push({
        id: message.id,
        role: "user",
        parts: [{ type: "text", text: message.content }],
        metadata: message.siblings ? { siblings: message.siblings } : undefined,
      });
      // A finished run that left no answer (failed, cancelled): say so under its question.
      if (run && !isActiveRun(run) && !answered.has(run.id) && run.status !== "completed") {
        messages.push({
          id: `run-${run.id}`,
          role: "assistant",
          parts: [],
          metadata: {
            run_id: run.id,
            status: run.status,
            model: run.model,
            offline: run.model === "offline",
            usage: run.usage,
            error: run.error ?? { code: "CANCELLED", message: `The run ${run.status}.` },
          },
        });
      }
      continue;
    }
    const parts: ChatUIMessage["parts"] = [{ type: "step-start" }];
    for (const result of message.tool_results) {
      const base = { type: `tool-${result.name}` as const, toolCallId: result.call_id, input: result.args ?? undefined };
      parts.push(
        (result.error
          ? { ...base, state: "output-error", errorText: `${result.error.code}: ${result.error.message}` }
          : { ...base, state: "output-available", output: result.output }) as ChatUIMessage["parts"][number],
      );
    }
    if (message.content) parts.push({ type: "text", text: message.content, state: "done" });
    messages.push({
      id: message.id,
      role: "assistant",
      parts,
      metadata: {
        run_id: message.run_id ?? undefined,
        session_id: transcript.id,
        usage: run?.usage ?? null,
        model: run?.model,
        offline: run ? run.model === "offline" : undefined,
        status: run?.status,
        stopped: message.stopped ?? false,
        siblings: message.siblings,
      },
    });
  }
  const active = transcript.runs.find(isActiveRun);
  return { messages, activeRunId: active?.id ?? null };
}
