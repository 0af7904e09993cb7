"use client";
/** Channel analytics: pick, import or add a channel; `?id=<channel id>` selects one. */
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { api } from "@/lib/api";
import type { Channel, ImportResult } from "@/lib/api/schemas";
import { formatDate } from "@/lib/format";
import { ChannelAdd } from "@/components/channel-add";
import { ChannelAnalytics } from "@/components/channel-analytics";
import { ChannelImport } from "@/components/channel-import";
import { ErrorBanner } from "@/components/error-banner";

export function ChannelsScreen() {
  const search = useSearchParams();
  const router = useRouter();
  const selected = search.get("id");
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      const page = await api.channels();
      setChannels(page.results);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const open = useCallback(
    (id: string) => router.push(`/channels?id=${encodeURIComponent(id)}`),
    [router],
  );

  const onImported = useCallback(
    (result: ImportResult) => {
      void load();
      const first = result.channels[0];
      if (first) open(first.id);
    },
    [load, open],
  );

  const onAdded = useCallback(
    (id: string | null) => {
      void load();
      if (id) open(id);
    },
    [load, open],
  );

  return (
    <div className="channels-layout">
      <aside className="channels-side" aria-label="Channels">
        <h2>Your channels</h2>
        {error ? <ErrorBanner error={error} onRetry={() => void load()} /> : null}
        {channels && channels.length === 0 && <p className="muted small">No channels yet: import or add one.</p>}
        <ul className="channel-list">
          {(channels ?? []).map((channel) => (
            <li key={channel.id} data-testid="channel-item">
              <Link
                href={`/channels?id=${encodeURIComponent(channel.id)}`}
                aria-current={channel.id === selected ? "page" : undefined}
              >
                {channel.title}
              </Link>
              <span className="small muted">
                {" "}
                {channel.video_count} videos · {formatDate(channel.fetched_at)}
              </span>
            </li>
          ))}
        </ul>
        <ChannelImport onImported={onImported} />
        <ChannelAdd onAdded={onAdded} />
      </aside>
      <section className={`channels-main${selected ? " selected" : ""}`} aria-label="Channel analytics">
        {selected ? (
          <ChannelAnalytics key={selected} channelId={selected} />
        ) : (
          <div className="empty-chat">
            <h1>Channel analytics</h1>
            <p className="muted">
              Pick a channel, import a CSV export of its uploads, or add one from YouTube to see which
              videos outperform, how views spread over time and how consistently it uploads.
            </p>
          </div>
        )}
      </section>
    </div>
  );
}
