"use client";
/** The message box: Enter sends, Shift+Enter starts a new line; model picker; Send / Stop. */
import { useState, type FormEvent, type KeyboardEvent } from "react";
import type { Model, Models } from "@/lib/api/schemas";
import "@/styles/chat.css";

function modelLabel(model: Model): string {
  if (model.offline) return model.id === "offline" ? "Offline model (free)" : `${model.id} (offline)`;
  const price =
    model.input_per_million_usd && model.output_per_million_usd
      ? ` ($${Number(model.input_per_million_usd)}/$${Number(model.output_per_million_usd)} per M tokens)`
      : "";
  return `${model.id}${price}`;
}

export function Composer({
  onSend,
  onStop,
  onSendInstead,
  busy,
  stopping,
  models,
  model,
  onModelChange,
  autoFocus,
}: {
  onSend: (text: string) => void;
  onStop?: () => void;
  /** While an answer streams: stop it and ask this instead (it replaces the question). */
  onSendInstead?: (text: string) => void;
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
    <div className="composer-wrap">
      <form className="composer" onSubmit={submit}>
        <textarea
          aria-label="Message"
          aria-describedby="composer-hint"
          placeholder="Ask for video ideas, keywords, hashtags…"
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
                  {modelLabel(option)}
                </option>
              ))}
            </select>
          </label>
          <p id="composer-hint" className="composer-hint small muted">
            Enter sends · Shift+Enter for a new line
          </p>
          <div className="composer-actions">
            {busy && onSendInstead && text.trim() && (
              <button
                type="button"
                className="secondary"
                title="Stop this answer and ask this instead of the question it answers"
                onClick={() => {
                  onSendInstead(text.trim());
                  setText("");
                }}
              >
                Send instead
              </button>
            )}
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
    </div>
  );
}
