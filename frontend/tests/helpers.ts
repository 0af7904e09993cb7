import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { readUIMessageStream, type UIMessageChunk } from "ai";
import type { ChatUIMessage } from "@/lib/chat-types";
import { parseUiStream, streamOf } from "@/lib/sse";

/** The recorded POST /api/chat stream (offline model: content ideas, keywords, hashtags). */
export const FIXTURE = readFileSync(resolve(process.cwd(), "tests/fixtures/chat-stream.sse"), "utf8");

export function fixtureChunks(): UIMessageChunk[] {
  return parseUiStream(FIXTURE);
}

/** Runs chunks through the AI SDK's own message builder, as useChat does. */
export async function toMessage(chunks: UIMessageChunk[]): Promise<ChatUIMessage> {
  let last: ChatUIMessage | undefined;
  for await (const message of readUIMessageStream<ChatUIMessage>({
    stream: streamOf(chunks),
    terminateOnError: true,
  })) {
    last = message;
  }
  if (!last) throw new Error("the stream produced no message");
  return structuredClone(last);
}

/** The chunks up to and including the first one matching `predicate`. */
export function until(chunks: UIMessageChunk[], predicate: (chunk: UIMessageChunk) => boolean) {
  const index = chunks.findIndex(predicate);
  if (index < 0) throw new Error("no such chunk");
  return chunks.slice(0, index + 1);
}
