"use client";
/**
 * One chat session with `useChat`: sends only the newest message, shows each run's steps
 * as they stream, resumes a run in progress after a reload (`resume: true` reconnects to
 * GET /api/chat/{id}/stream, which replays the run from its start), and stops a run with
 * POST /api/runs/{run_id}/cancel/ (the run id comes from the stream's `start` part).
 */
import { useChat } from "@ai-sdk/react";
import { lastAssistantMessageIsCompleteWithApprovalResponses } from "ai";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "@/lib/api";
import type { Models } from "@/lib/api/schemas";
import { track } from "@/lib/analytics";
import { createChatTransport } from "@/lib/chat-transport";
import type { ChatUIMessage } from "@/lib/chat-types";
import { describeError } from "@/lib/errors";
import { ChatActionsContext } from "@/lib/chat-actions";
import { activeRunId } from "@/lib/run-steps";
import { transcriptToMessages } from "@/lib/transcript";
import { Composer } from "@/components/composer";
import { ErrorBanner } from "@/components/error-banner";
import { VersionSwitcher } from "@/components/message-versions";
import { RunView } from "@/components/run-view";
import "@/styles/chat.css";
import "@/styles/run-view.css";

export const SUGGESTIONS = [
  "Video ideas, keywords and hashtags for a home espresso channel",
  "Keyword research for budget travel vlogs",
  "Hashtags for a sourdough baking short",
];

function messageText(message: ChatUIMessage): string {
  return message.parts.map((part) => (part.type === "text" ? part.text : "")).join("");
}

/** A tool part of the message still waits for the creator's answer. */
function awaitsApproval(message: ChatUIMessage): boolean {
  return message.parts.some((part) => "state" in part && part.state === "approval-requested");
}

export function EmptyChat({ onPick, disabled }: { onPick: (text: string) => void; disabled?: boolean }) {
  return (
    <div className="empty-chat">
      <h1>What is your next video about?</h1>
      <p className="muted">
        The assistant plans, calls creator tools (ideas, keywords, hashtags, channel analytics) and
        answers from their results. You see every step as it happens.
      </p>
      <ul className="suggestions">
        {SUGGESTIONS.map((text) => (
          <li key={text}>
            <button type="button" className="ghost" onClick={() => onPick(text)} disabled={disabled}>
              {text}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Conversation({
  sessionId,
  initialMessages,
  initialActiveRunId,
  pendingText,
  models,
  model,
  onModelChange,
  onActivity,
}: {
  sessionId: string;
  initialMessages: ChatUIMessage[];
  initialActiveRunId: string | null;
  pendingText?: string;
  models: Models | null;
  model: string | null;
  onModelChange: (id: string) => void;
  onActivity: () => void;
}) {
  const refreshAfter = useRef(false);
  const reloadRef = useRef<() => Promise<unknown>>(async () => undefined);
  const modelRef = useRef(model);
  modelRef.current = model;
  const transport = useMemo(() => createChatTransport(() => modelRef.current ?? undefined), []);
  const {
    messages,
    sendMessage,
    status,
    error,
    clearError,
    setMessages,
    resumeStream,
    addToolApprovalResponse,
    regenerate,
    stop,
  } = useChat<ChatUIMessage>({
    id: sessionId,
    messages: initialMessages,
    transport,
    resume: !pendingText,
    // An answered approval goes to POST /api/chat, which resumes the run and streams it.
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
    experimental_throttle: 50,
    onFinish: () => {
      onActivity();
      // After an edit or a regeneration the transcript knows the new versions.
      if (refreshAfter.current) {
        refreshAfter.current = false;
        void reloadRef.current();
      }
    },
  });
  const busy = status === "submitted" || status === "streaming";
  const runId = busy ? activeRunId(messages) : null;

  const send = useCallback(
    (text: string) => {
      track("chat_sent", { session_id: sessionId, model: modelRef.current });
      void sendMessage({ text });
    },
    [sendMessage, sessionId],
  );

  // What a result card may do here ("Make thumbnails" on an idea).
  const chatActions = useMemo(() => ({ ask: send, busy }), [send, busy]);

  // Double-texting: the new message replaces the question being answered (the server
  // cancels the run and forks before its question; the transcript then shows the branch).
  const sendInstead = useCallback(
    (text: string) => {
      track("chat_sent", { session_id: sessionId, model: modelRef.current, multitask: "rollback" });
      void (async () => {
        await stop(); // (its onFinish comes first: the refresh is for the new answer's)
        refreshAfter.current = true;
        await sendMessage({ text }, { body: { multitask: "rollback" } });
      })();
    },
    [sendMessage, stop, sessionId],
  );

  // The first message of a session created a moment ago.
  const pendingSent = useRef(false);
  useEffect(() => {
    if (pendingText && !pendingSent.current) {
      pendingSent.current = true;
      send(pendingText);
    }
  }, [pendingText, send]);

  // The transcript said a run was active, but it may have ended before the resume request
  // (which then gets 204): fetch the stored answer instead of showing nothing.
  const latest = useRef({ status, messages });
  latest.current = { status, messages };
  useEffect(() => {
    if (!initialActiveRunId) return;
    let cancelled = false;
    const timer = window.setTimeout(async () => {
      const now = latest.current;
      if (now.status !== "ready" || now.messages[now.messages.length - 1]?.role !== "user") return;
      try {
        const fresh = transcriptToMessages(await api.transcript(sessionId));
        if (cancelled) return;
        setMessages(fresh.messages);
        if (fresh.activeRunId) void resumeStream();
      } catch {
        /* keep what is shown */
      }
    }, 2000);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [initialActiveRunId, sessionId, setMessages, resumeStream]);

  // Stop: cancel the run on the server; its stream then ends by itself.
  const [stopRequested, setStopRequested] = useState(false);
  const [stopError, setStopError] = useState<unknown>(null);
  const [stopped, setStopped] = useState<Set<string>>(() => new Set());
  useEffect(() => {
    if (!busy) setStopRequested(false);
  }, [busy]);
  useEffect(() => {
    if (!stopRequested || !runId || stopped.has(runId)) return;
    setStopped((set) => new Set(set).add(runId));
    api.cancelRun(runId).catch((err: unknown) => setStopError(err));
  }, [stopRequested, runId, stopped]);

  // Edit, regenerate, and switch between versions: the transcript is a tree on the server.
  const [editing, setEditing] = useState<{ id: string; text: string } | null>(null);
  const reload = useCallback(async () => {
    const fresh = transcriptToMessages(await api.transcript(sessionId));
    setMessages(fresh.messages);
    return fresh;
  }, [sessionId, setMessages]);
  reloadRef.current = reload;
  const switchTo = useCallback(
    (messageId: string) => {
      api
        .switchBranch(sessionId, messageId)
        .then(reload)
        .catch((err: unknown) => setStopError(err));
    },
    [sessionId, reload],
  );
  const saveEdit = useCallback(async () => {
    if (!editing || !editing.text.trim()) return;
    const { id: editOf, text } = editing;
    setEditing(null);
    try {
      await api.editMessage(sessionId, editOf, text);
      refreshAfter.current = true;
      const fresh = await reload();
      if (fresh.activeRunId) void resumeStream();
    } catch (err) {
      setStopError(err);
    }
  }, [editing, sessionId, reload, resumeStream]);
  // Approve with edited arguments: over REST (checked like the tool's own), then the
  // resumed run streams again from its start in place of the waiting message.
  const editApproval = useCallback(
    async (runId: string | undefined, answer: { id: string; args: Record<string, unknown> }) => {
      if (!runId) return "This run is not known yet; try again in a moment.";
      try {
        await api.answerApproval(runId, answer.id, { approved: true, args: answer.args });
      } catch (err) {
        return describeError(err).message;
      }
      setMessages((current) =>
        current[current.length - 1]?.role === "assistant" ? current.slice(0, -1) : current,
      );
      void resumeStream();
      return null;
    },
    [setMessages, resumeStream],
  );
  const regenerateAnswer = useCallback(
    (messageId: string) => {
      refreshAfter.current = true;
      void regenerate({ messageId });
    },
    [regenerate],
  );

  // Keep the newest step in view while it streams, unless the reader scrolled up.
  const scrollRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    const box = scrollRef.current;
    if (box && stick.current) box.scrollTop = box.scrollHeight;
  }, [messages, status]);

  return (
    <ChatActionsContext.Provider value={chatActions}>
      <div className="conversation">
        <div
          className="scroll-area"
          ref={scrollRef}
          onScroll={(event) => {
            const box = event.currentTarget;
            stick.current = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
          }}
        >
          <div className="scroll-inner">
            {messages.length === 0 && !busy && <EmptyChat onPick={send} />}
            <ol className="messages">
              {messages.map((message, index) =>
                message.role === "user" ? (
                  <li key={message.id} className="message user">
                    {editing?.id === message.id ? (
                      <form
                        className="edit-message"
                        onSubmit={(event) => {
                          event.preventDefault();
                          void saveEdit();
                        }}
                      >
                        <textarea
                          aria-label="Edit message"
                          value={editing.text}
                          onChange={(event) => setEditing({ id: message.id, text: event.target.value })}
                        />
                        <div className="message-actions">
                          <button type="submit" disabled={!editing.text.trim()}>
                            Send edit
                          </button>
                          <button type="button" className="ghost" onClick={() => setEditing(null)}>
                            Cancel
                          </button>
                        </div>
                      </form>
                    ) : (
                      <div className="bubble" data-testid="user-message">
                        {messageText(message)}
                      </div>
                    )}
                    <div className="message-actions small">
                      <VersionSwitcher siblings={message.metadata?.siblings} onSwitch={switchTo} disabled={busy} />
                      {!busy && editing?.id !== message.id && (
                        <button
                          type="button"
                          className="ghost"
                          onClick={() => setEditing({ id: message.id, text: messageText(message) })}
                        >
                          Edit
                        </button>
                      )}
                    </div>
                  </li>
                ) : (
                  <li key={message.id} className="message assistant">
                    <RunView
                      message={message}
                      active={busy && index === messages.length - 1}
                      onApproval={(answer) => void addToolApprovalResponse(answer)}
                      onApprovalEdit={(answer) => editApproval(message.metadata?.run_id, answer)}
                      stopped={Boolean(
                        message.metadata?.stopped ||
                          (message.metadata?.run_id && stopped.has(message.metadata.run_id)),
                      )}
                    />
                    <div className="message-actions small">
                      <VersionSwitcher siblings={message.metadata?.siblings} onSwitch={switchTo} disabled={busy} />
                      {!busy && !message.id.startsWith("run-") && !awaitsApproval(message) && (
                        <button type="button" className="ghost" onClick={() => regenerateAnswer(message.id)}>
                          Regenerate
                        </button>
                      )}
                    </div>
                  </li>
                ),
              )}
              {status === "submitted" && messages[messages.length - 1]?.role === "user" && (
                <li className="message assistant">
                  <p className="muted small working">Starting…</p>
                </li>
              )}
            </ol>
            <p className="sr-only" role="status">
              {busy ? "The assistant is working." : messages.length ? "Ready." : ""}
            </p>
            {error && <ErrorBanner error={error} onDismiss={clearError} />}
            {stopError ? <ErrorBanner error={stopError} onDismiss={() => setStopError(null)} /> : null}
          </div>
        </div>
        <Composer
          onSend={send}
          onStop={() => setStopRequested(true)}
          onSendInstead={sendInstead}
          busy={busy}
          stopping={stopRequested}
          models={models}
          model={model}
          onModelChange={onModelChange}
          autoFocus
        />
      </div>
    </ChatActionsContext.Provider>
  );
}
