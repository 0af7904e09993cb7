"use client";
/**
 * Channel analytics: pick, import or add a channel; `?id=<channel id>` selects one. The
 * list is the workspace: own channels (the primary first), then competitors.
 */
import { useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { api } from "@/lib/api";
import { ApiError } from "@/lib/api/errors";
import type { Channel, ChannelChange, ImportResult } from "@/lib/api/schemas";
import { ChannelAdd } from "@/components/channel-add";
import { ChannelAnalytics } from "@/components/channel-analytics";
import { ChannelImport } from "@/components/channel-import";
import { CompetitorGapPanel } from "@/components/competitor-gap-panel";
import { ChannelList } from "@/components/channel-list";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/channels.css";

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

  // A role or primary change can move other channels too (the old primary, a promoted
  // one), so the list is read again after every change; a channel gone meanwhile as well.
  const onChange = useCallback(
    async (id: string, change: ChannelChange) => {
      try {
        await api.updateChannel(id, change);
      } catch (err) {
        if (err instanceof ApiError && err.code === "NOT_FOUND") void load();
        throw err;
      }
      await load();
    },
    [load],
  );

  const onDelete = useCallback(
    async (id: string) => {
      try {
        await api.deleteChannel(id);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === "NOT_FOUND")) throw err;
      }
      if (id === selected) router.push("/channels");
      await load();
    },
    [load, router, selected],
  );

  const own = (channels ?? []).filter((channel) => channel.role === "own");
  const competitors = (channels ?? []).filter((channel) => channel.role === "competitor");
  const primary = own.find((channel) => channel.primary);

  return (
    <div className="channels-layout">
      <aside className="channels-side" aria-label="Channels">
        <h2>Your channels</h2>
        {error ? <ErrorBanner error={error} onRetry={() => void load()} /> : null}
        {channels && channels.length === 0 && <p className="muted small">No channels yet: import or add one.</p>}
        {own.length > 0 && (
          <ChannelList channels={own} selectedId={selected} onChange={onChange} onDelete={onDelete} />
        )}
        {competitors.length > 0 && (
          <>
            <h3 className="channel-group">Competitors</h3>
            <ChannelList channels={competitors} selectedId={selected} onChange={onChange} onDelete={onDelete} />
          </>
        )}
        {channels && channels.length > 0 && own.length === 0 && (
          <p className="muted small">None is marked as yours: set one to “own” so the assistant knows.</p>
        )}
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
        {/* Content gaps of the primary own channel, on its page and on the landing view;
            remounted (so fetched again) when the set of competitors changes. */}
        {primary && (!selected || selected === primary.id) && (
          <CompetitorGapPanel
            key={`${primary.id}:${competitors.map((channel) => channel.id).join(",")}`}
            channelId={primary.id}
            channelName={primary.name}
            competitorCount={competitors.length}
          />
        )}
      </section>
    </div>
  );
}
