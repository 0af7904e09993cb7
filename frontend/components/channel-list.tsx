"use client";
/**
 * The client's channels: open one; set its role (own/competitor), make it the primary own
 * channel, give it a display name (the title stays as YouTube or the CSV gave it), delete
 * it after a confirmation. Every change goes to the backend, which re-orders the list.
 */
import Link from "next/link";
import { useState, type FormEvent } from "react";
import type { Channel, ChannelChange, ChannelRole } from "@/lib/api/schemas";
import { formatDate } from "@/lib/format";
import { formErrors } from "@/lib/form-errors";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/channels.css";

export const DISPLAY_NAME_MAX = 100;

/** The change a display-name edit makes: trimmed, empty clears it, unchanged is nothing. */
export function displayNameChange(channel: Pick<Channel, "display_name">, text: string): ChannelChange | null {
  const name = text.trim();
  if (name === (channel.display_name ?? "")) return null;
  return { display_name: name || null };
}

/** The change a role pick makes (none when it is the channel's role already). */
export function roleChange(channel: Pick<Channel, "role">, role: ChannelRole): ChannelChange | null {
  return role === channel.role ? null : { role };
}

type Mode = "view" | "rename" | "confirm";

function ChannelItem({
  channel,
  current,
  onChange,
  onDelete,
}: {
  channel: Channel;
  current: boolean;
  onChange: (change: ChannelChange) => Promise<void>;
  onDelete: () => Promise<void>;
}) {
  const [mode, setMode] = useState<Mode>("view");
  const [text, setText] = useState(channel.display_name ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const href = `/channels?id=${encodeURIComponent(channel.id)}`;
  const inputId = `channel-name-${channel.id}`;

  async function send(change: ChannelChange | null, after?: () => void) {
    if (!change) {
      after?.();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onChange(change);
      after?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  function cancel() {
    setError(null);
    setMode("view");
  }

  async function rename(event: FormEvent) {
    event.preventDefault();
    await send(displayNameChange(channel, text), () => setMode("view"));
  }

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await onDelete();
    } catch (err) {
      setError(err);
      setMode("view");
      setBusy(false);
    }
  }

  // A rejected name shows under the field; anything else (404, 429, offline) as a banner.
  const nameErrors = mode === "rename" && error ? formErrors(error, { display_name: "Name" }) : null;
  const banner = error && !nameErrors?.fields.display_name ? error : null;

  return (
    <li
      className={`channel-item${current ? " current" : ""}`}
      data-testid="channel-item"
      data-channel-id={channel.id}
      data-role={channel.role}
      data-primary={channel.primary ? "true" : "false"}
    >
      <div className="channel-head">
        <Link href={href} aria-current={current ? "page" : undefined} className="channel-link">
          {channel.name}
        </Link>
        {channel.primary && (
          <span className="badge primary-badge" title="What “my channel” means to the assistant">
            primary
          </span>
        )}
      </div>
      <p className="small muted channel-meta">
        {channel.display_name ? `${channel.title} · ` : ""}
        {channel.handle ? `${channel.handle} · ` : ""}
        {channel.video_count} videos · {formatDate(channel.fetched_at)}
      </p>
      {mode === "rename" ? (
        <form className="channel-rename" onSubmit={rename}>
          <label htmlFor={inputId} className="sr-only">
            Display name for {channel.title}
          </label>
          <input
            id={inputId}
            value={text}
            maxLength={DISPLAY_NAME_MAX}
            placeholder={channel.title}
            aria-invalid={nameErrors?.fields.display_name ? true : undefined}
            aria-describedby={nameErrors?.fields.display_name ? `${inputId}-error` : undefined}
            onChange={(event) => setText(event.target.value)}
            onKeyDown={(event) => event.key === "Escape" && cancel()}
            autoFocus
          />
          <button type="submit" className="small-button" disabled={busy}>
            Save
          </button>
          <button type="button" className="ghost small-button" onClick={cancel}>
            Cancel
          </button>
          {nameErrors?.fields.display_name && (
            <p id={`${inputId}-error`} className="field-error small" role="alert">
              {nameErrors.fields.display_name}
            </p>
          )}
          <p className="small muted">Empty uses the title.</p>
        </form>
      ) : mode === "confirm" ? (
        <div className="channel-actions" role="group" aria-label={`Delete ${channel.name}?`}>
          <span className="small">
            Delete {channel.name} and its {channel.video_count} stored videos?
          </span>
          <button type="button" className="danger small-button" onClick={remove} disabled={busy}>
            Delete
          </button>
          <button type="button" className="ghost small-button" onClick={() => setMode("view")}>
            Keep
          </button>
        </div>
      ) : (
        <div className="channel-actions">
          <select
            aria-label={`Role of ${channel.name}`}
            value={channel.role}
            disabled={busy}
            onChange={(event) => void send(roleChange(channel, event.target.value as ChannelRole))}
          >
            <option value="own">own</option>
            <option value="competitor">competitor</option>
          </select>
          {!channel.primary && (
            <button
              type="button"
              className="ghost small-button"
              disabled={busy}
              aria-label={`Make ${channel.name} primary`}
              onClick={() => void send({ primary: true })}
            >
              Make primary
            </button>
          )}
          <button
            type="button"
            className="ghost small-button"
            disabled={busy}
            aria-label={`Rename ${channel.name}`}
            onClick={() => {
              setText(channel.display_name ?? "");
              setError(null);
              setMode("rename");
            }}
          >
            Rename
          </button>
          <button
            type="button"
            className="ghost small-button"
            disabled={busy}
            aria-label={`Delete ${channel.name}`}
            onClick={() => {
              setError(null);
              setMode("confirm");
            }}
          >
            Delete
          </button>
        </div>
      )}
      {banner ? <ErrorBanner error={banner} onDismiss={() => setError(null)} /> : null}
    </li>
  );
}

export function ChannelList({
  channels,
  selectedId,
  onChange,
  onDelete,
}: {
  channels: Channel[];
  selectedId: string | null;
  onChange: (channelId: string, change: ChannelChange) => Promise<void>;
  onDelete: (channelId: string) => Promise<void>;
}) {
  return (
    <ul className="channel-list">
      {channels.map((channel) => (
        <ChannelItem
          key={channel.id}
          channel={channel}
          current={channel.id === selectedId}
          onChange={(change) => onChange(channel.id, change)}
          onDelete={() => onDelete(channel.id)}
        />
      ))}
    </ul>
  );
}
