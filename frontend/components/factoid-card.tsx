"use client";
/** One factoid: text, subject, score, the caller's vote (aria-pressed) and optional feedback. */
import { useState, type FormEvent } from "react";
import { api, type Vote } from "@/lib/api";
import type { Factoid } from "@/lib/api/schemas";
import { track } from "@/lib/analytics";
import { formatDate } from "@/lib/format";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/factoids.css";

export function FactoidCard({ factoid, onChange }: { factoid: Factoid; onChange: (f: Factoid) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [feedbackOpen, setFeedbackOpen] = useState(false);
  const [feedback, setFeedback] = useState("");
  const [sent, setSent] = useState(false);

  async function vote(direction: "up" | "down") {
    const next: Vote = factoid.my_vote === direction ? "none" : direction;
    setBusy(true);
    try {
      const updated = await api.vote(factoid.uuid, next);
      onChange(updated);
      track("factoid_voted", { factoid: factoid.uuid, vote: next, subject: factoid.subject });
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function sendFeedback(event: FormEvent) {
    event.preventDefault();
    if (!feedback.trim()) return;
    setBusy(true);
    try {
      await api.feedback(factoid.uuid, feedback.trim());
      setSent(true);
      setFeedback("");
      setFeedbackOpen(false);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const feedbackId = `feedback-${factoid.uuid}`;
  return (
    <li className="factoid card" data-testid="factoid" data-uuid={factoid.uuid}>
      <p className="factoid-text">{factoid.text}</p>
      <p className="small muted">
        <span className="badge">{factoid.subject}</span> {formatDate(factoid.created_at)}
        {factoid.source === "chat" ? " · from a chat" : ""}
        {factoid.model === "offline" ? " · offline model" : ` · ${factoid.model}`}
      </p>
      <div className="vote-bar" role="group" aria-label="Vote on this factoid">
        <button
          type="button"
          className="vote"
          aria-label="Upvote"
          aria-pressed={factoid.my_vote === "up"}
          onClick={() => void vote("up")}
          disabled={busy}
        >
          <span aria-hidden="true">▲</span> {factoid.up}
        </button>
        <span className="score" data-testid="factoid-score" aria-label={`Score ${factoid.score}`}>
          {factoid.score}
        </span>
        <button
          type="button"
          className="vote"
          aria-label="Downvote"
          aria-pressed={factoid.my_vote === "down"}
          onClick={() => void vote("down")}
          disabled={busy}
        >
          <span aria-hidden="true">▼</span> {factoid.down}
        </button>
        <button
          type="button"
          className="ghost small-button"
          aria-expanded={feedbackOpen}
          aria-controls={feedbackId}
          onClick={() => setFeedbackOpen((open) => !open)}
        >
          Feedback
        </button>
        {sent && (
          <span className="small muted" role="status">
            Thanks for the feedback.
          </span>
        )}
      </div>
      {feedbackOpen && (
        <form id={feedbackId} className="feedback" onSubmit={sendFeedback}>
          <label htmlFor={`${feedbackId}-text`}>Feedback (optional: what is wrong or great about it?)</label>
          <textarea
            id={`${feedbackId}-text`}
            value={feedback}
            maxLength={2000}
            rows={3}
            onChange={(event) => setFeedback(event.target.value)}
          />
          <div>
            <button type="submit" disabled={busy || !feedback.trim()}>
              Send feedback
            </button>
          </div>
        </form>
      )}
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
    </li>
  );
}
