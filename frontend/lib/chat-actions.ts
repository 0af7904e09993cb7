/** What a result card may do in the conversation it is shown in: ask the agent a follow-up
 * (e.g. "Make thumbnails for this idea"). Outside a conversation (history) there is none. */
import { createContext, useContext } from "react";

export type ChatActions = {
  /** Send `text` as the creator's next message; false while an answer is streaming. */
  ask: (text: string) => void;
  busy: boolean;
};

export const ChatActionsContext = createContext<ChatActions | null>(null);

export function useChatActions(): ChatActions | null {
  return useContext(ChatActionsContext);
}

/** The message that asks the agent for thumbnails of a video idea. */
export function thumbnailRequest(title: string): string {
  return `Make thumbnails for “${title.replace(/[“”"]/g, "'")}”`;
}
