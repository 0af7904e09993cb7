/** Server-Sent Events text helpers (the UI message stream is `data: <json>` lines). */
import type { UIMessageChunk } from "ai";

/** The JSON chunks of a UI message stream's SSE text, without the closing `[DONE]`. */
export function parseUiStream(text: string): UIMessageChunk[] {
  const chunks: UIMessageChunk[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).replace(/^ /, ""))
      .join("\n");
    if (!data || data === "[DONE]") continue;
    chunks.push(JSON.parse(data) as UIMessageChunk);
  }
  return chunks;
}

export function streamOf<T>(items: T[]): ReadableStream<T> {
  return new ReadableStream<T>({
    start(controller) {
      for (const item of items) controller.enqueue(item);
      controller.close();
    },
  });
}
