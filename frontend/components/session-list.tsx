"use client";
/** The chat sessions: open, start a new one, rename inline, delete after a confirmation. */
import Link from "next/link";
import { useState, type FormEvent } from "react";
import type { Session } from "@/lib/api/schemas";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/chat.css";

export function sessionTitle(session: Pick<Session, "title">): string {
  return session.title.trim() || "Untitled chat";
}

function SessionItem({
  session,
  current,
  onRename,
  onDelete,
}: {
  session: Session;
  current: boolean;
  onRename: (title: string) => Promise<void>;
  onDelete: () => Promise<void>;
}) {
  const [mode, setMode] = useState<"view" | "rename" | "confirm">("view");
  const [title, setTitle] = useState(session.title);
  const [error, setError] = useState<unknown>(null);
  const name = sessionTitle(session);

  async function rename(event: FormEvent) {
    event.preventDefault();
    if (!title.trim()) return;
    try {
      await onRename(title.trim());
      setMode("view");
      setError(null);
    } catch (err) {
      setError(err);
    }
  }

  async function remove() {
    try {
      await onDelete();
    } catch (err) {
      setError(err);
      setMode("view");
    }
  }

  return (
    <li
      className={`session-item${current ? " current" : ""}`}
      data-testid="session-item"
      data-session-id={session.id}
    >
      {mode === "rename" ? (
        <form className="session-rename" onSubmit={rename}>
          <input
            aria-label="Chat title"
            value={title}
            maxLength={200}
            onChange={(event) => setTitle(event.target.value)}
            onKeyDown={(event) => event.key === "Escape" && setMode("view")}
            autoFocus
          />
          <button type="submit">Save</button>
          <button type="button" className="ghost" onClick={() => setMode("view")}>
            Cancel
          </button>
        </form>
      ) : (
        <>
          <Link
            href={`/chat?session=${encodeURIComponent(session.id)}`}
            className="session-link"
            aria-current={current ? "page" : undefined}
          >
            {name}
          </Link>
          {mode === "confirm" ? (
            <span className="session-actions" role="group" aria-label={`Delete ${name}?`}>
              <button type="button" className="danger" onClick={remove}>
                Delete
              </button>
              <button type="button" className="ghost" onClick={() => setMode("view")}>
                Keep
              </button>
            </span>
          ) : (
            <span className="session-actions">
              <button
                type="button"
                className="ghost small-button"
                aria-label={`Rename ${name}`}
                onClick={() => {
                  setTitle(session.title);
                  setMode("rename");
                }}
              >
                Rename
              </button>
              <button
                type="button"
                className="ghost small-button"
                aria-label={`Delete ${name}`}
                onClick={() => setMode("confirm")}
              >
                Delete
              </button>
            </span>
          )}
        </>
      )}
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
    </li>
  );
}

export function SessionList({
  sessions,
  currentId,
  hasMore,
  loading,
  error,
  onNew,
  onLoadMore,
  onRename,
  onDelete,
}: {
  sessions: Session[];
  currentId: string | null;
  hasMore: boolean;
  loading: boolean;
  error: unknown;
  onNew: () => void;
  onLoadMore: () => void;
  onRename: (id: string, title: string) => Promise<void>;
  onDelete: (id: string) => Promise<void>;
}) {
  return (
    <div className="session-list">
      <button type="button" className="new-chat" onClick={onNew}>
        New chat
      </button>
      {error ? <ErrorBanner error={error} /> : null}
      {!loading && sessions.length === 0 && <p className="muted small">No chats yet.</p>}
      <ul>
        {sessions.map((session) => (
          <SessionItem
            key={session.id}
            session={session}
            current={session.id === currentId}
            onRename={(title) => onRename(session.id, title)}
            onDelete={() => onDelete(session.id)}
          />
        ))}
      </ul>
      {hasMore && (
        <button type="button" className="ghost" onClick={onLoadMore} disabled={loading}>
          Show older chats
        </button>
      )}
    </div>
  );
}
