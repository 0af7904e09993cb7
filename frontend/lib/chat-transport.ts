/**
 * The `useChat` transport for the backend's AI SDK endpoints: POST /api/chat sends only the
 * newest message (the server keeps the history) with the chosen model (and `multitask` when
 * `sendMessage` passes it in its `body`); resuming GETs
 * /api/chat/{id}/stream (204 when no run is active).
 */
import { DefaultChatTransport } from "ai";
import { ensureCsrfCookie, writeHeaders } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import type { ChatUIMessage } from "@/lib/chat-types";

/** fetch that turns an error answer into an ApiError (keeping details and Retry-After). */
export const chatFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, { ...init, credentials: "same-origin" });
  if (!response.ok) throw await ApiError.fromResponse(response);
  return response;
};

/** The request body POST /api/chat gets: the chat id, the newest message, the model. */
export function chatRequestBody(opts: {
  id: string;
  messages: ChatUIMessage[];
  trigger: string;
  messageId?: string;
  model?: string;
  /** Double-texting: `rollback` replaces the question being answered. */
  multitask?: string;
}): Record<string, unknown> {
  const last = opts.messages[opts.messages.length - 1];
  return {
    id: opts.id,
    messages: last ? [last] : [],
    trigger: opts.trigger,
    ...(opts.messageId ? { messageId: opts.messageId } : {}),
    ...(opts.model ? { model: opts.model } : {}),
    ...(opts.multitask ? { multitask: opts.multitask } : {}),
  };
}

export function createChatTransport(getModel: () => string | undefined) {
  return new DefaultChatTransport<ChatUIMessage>({
    api: "/api/chat",
    credentials: "same-origin",
    fetch: chatFetch,
    prepareSendMessagesRequest: async ({ id, messages, trigger, messageId, headers, body }) => {
      await ensureCsrfCookie();
      const multitask = typeof body?.multitask === "string" ? body.multitask : undefined;
      return {
        body: chatRequestBody({ id, messages, trigger, messageId, model: getModel(), multitask }),
        headers: { ...(headers as Record<string, string> | undefined), ...writeHeaders() },
      };
    },
  });
}
