"use client";
/** The message box: Enter sends, Shift+Enter starts a new line; model picker; Send / Stop. */
import { useState, type FormEvent, type KeyboardEvent } from "react";
import type { Models } from "@/lib/api/schemas";

export function Composer({
  onSend,
  onStop,
  busy,
  stopping,
  models,
  model,
  onModelChange,
  autoFocus,
}: {
  onSend: (text: string) => void;
  onStop?: () => void;
  busy: boolean;
  stopping?: boolean;
  models: Models | null;
  model: string | null;
  onModelChange: (id: string) => void;
  autoFocus?: boolean;
}) {
  const [text, setText] = useState("");

  function submit(event?: FormEvent) {
    event?.preventDefault();
    const value = text.trim();
    if (!value || busy) return;
    onSend(value);
    setText("");
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  return (
    <form className="composer" onSubmit={submit}>
      <textarea
        aria-label="Message"
        placeholder="Ask for video ideas, keywords, hashtags… (Enter sends, Shift+Enter for a new line)"
        value={text}
        rows={2}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        autoFocus={autoFocus}
      />
      <div className="composer-bar">
        <label className="model-picker">
          <span aria-hidden="true">Model</span>
          <select
            aria-label="Model"
            value={model ?? ""}
            onChange={(event) => onModelChange(event.target.value)}
            disabled={!models}
          >
            {!models && <option value="">Loading…</option>}
            {models?.results.map((option) => (
              <option key={option.id} value={option.id}>
                {option.offline ? `${option.id} (offline)` : option.id}
              </option>
            ))}
          </select>
        </label>
        <div className="composer-actions">
          {busy && onStop && (
            <button type="button" className="secondary" onClick={onStop} disabled={stopping}>
              Stop
            </button>
          )}
          <button type="submit" disabled={busy || !text.trim()}>
            Send
          </button>
        </div>
      </div>
    </form>
  );
}
