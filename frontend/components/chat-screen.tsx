"use client";
/** The chat screen: sessions on the side, the conversation of `?session=<id>`. */
import { useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { api } from "@/lib/api";
import type { ChatUIMessage } from "@/lib/chat-types";
import { transcriptToMessages } from "@/lib/transcript";
import { useModels } from "@/hooks/use-models";
import { useSessions } from "@/hooks/use-sessions";
import { Composer } from "@/components/composer";
import { Conversation, EmptyChat } from "@/components/conversation";
import { ErrorBanner } from "@/components/error-banner";
import { SessionList } from "@/components/session-list";
import "@/styles/chat.css";

/**
 * A session created a moment ago for its first message: nothing to load, the message is
 * sent once it opens. Module state, because `/` and `/chat` are different pages.
 */
const created: { current: { id: string; text: string } | null } = { current: null };

type Loaded = {
  id: string;
  messages: ChatUIMessage[];
  activeRunId: string | null;
  pendingText?: string;
};

export function ChatScreen() {
  const search = useSearchParams();
  const router = useRouter();
  const sessionId = search.get("session");
  const sessions = useSessions();
  const { models, model, choose } = useModels();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [draftError, setDraftError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    setLoadError(null);
    setSidebarOpen(false);
    if (created.current && created.current.id !== sessionId) created.current = null;
    if (!sessionId) {
      setLoaded(null);
      return;
    }
    if (created.current) {
      setLoaded({ id: sessionId, messages: [], activeRunId: null, pendingText: created.current.text });
      return;
    }
    let cancelled = false;
    setLoaded(null);
    api
      .transcript(sessionId)
      .then((transcript) => {
        if (!cancelled) setLoaded({ id: sessionId, ...transcriptToMessages(transcript) });
      })
      .catch((err: unknown) => {
        if (!cancelled) setLoadError(err);
      });
    return () => {
      cancelled = true;
    };
  }, [sessionId, attempt]);

  const startChat = useCallback(
    async (text: string) => {
      setCreating(true);
      setDraftError(null);
      try {
        const session = await api.createSession(model ?? undefined);
        sessions.add(session);
        created.current = { id: session.id, text };
        router.push(`/chat?session=${encodeURIComponent(session.id)}`);
      } catch (err) {
        setDraftError(err);
      } finally {
        setCreating(false);
      }
    },
    [model, router, sessions],
  );

  const onDelete = useCallback(
    async (id: string) => {
      await sessions.remove(id);
      if (id === sessionId) router.push("/chat");
    },
    [router, sessionId, sessions],
  );

  return (
    <div className="chat-layout">
      <h1 className="sr-only">Chat</h1>
      <aside
        id="chat-sidebar"
        className={`chat-sidebar${sidebarOpen ? " open" : ""}`}
        aria-label="Chats"
      >
        <SessionList
          sessions={sessions.sessions}
          currentId={sessionId}
          hasMore={sessions.hasMore}
          loading={sessions.loading}
          error={sessions.error}
          onNew={() => router.push("/chat")}
          onLoadMore={sessions.loadMore}
          onRename={sessions.rename}
          onDelete={onDelete}
        />
      </aside>
      <section className="chat-main" aria-label="Conversation">
        <button
          type="button"
          className="sessions-toggle ghost"
          aria-expanded={sidebarOpen}
          aria-controls="chat-sidebar"
          onClick={() => setSidebarOpen((open) => !open)}
        >
          {sidebarOpen ? "Hide chats" : `Chats (${sessions.sessions.length})`}
        </button>
        {loadError ? (
          <div className="scroll-area">
            <ErrorBanner error={loadError} onRetry={() => setAttempt((n) => n + 1)} />
          </div>
        ) : sessionId && loaded?.id !== sessionId ? (
          <p className="muted scroll-area" role="status">
            Loading chat…
          </p>
        ) : loaded ? (
          <Conversation
            key={loaded.id}
            sessionId={loaded.id}
            initialMessages={loaded.messages}
            initialActiveRunId={loaded.activeRunId}
            pendingText={loaded.pendingText}
            models={models}
            model={model}
            onModelChange={choose}
            onActivity={sessions.reload}
          />
        ) : (
          <div className="conversation">
            <div className="scroll-area">
              <div className="scroll-inner">
                <EmptyChat onPick={(text) => void startChat(text)} disabled={creating} />
                {draftError ? <ErrorBanner error={draftError} onDismiss={() => setDraftError(null)} /> : null}
              </div>
            </div>
            <Composer
              onSend={(text) => void startChat(text)}
              busy={creating}
              models={models}
              model={model}
              onModelChange={choose}
              autoFocus
            />
          </div>
        )}
      </section>
    </div>
  );
}
