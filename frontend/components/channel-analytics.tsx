"use client";
/** One channel's analytics: views chart, sortable outlier table, upload calendar. */
import { useEffect, useMemo, useState } from "react";
import { api } from "@/lib/api";
import type { Outliers, UploadStreak, Video } from "@/lib/api/schemas";
import { formatNumber } from "@/lib/format";
import { ErrorBanner } from "@/components/error-banner";
import { OutlierTable } from "@/components/outlier-table";
import { UploadCalendar } from "@/components/upload-calendar";
import { ViewsChart } from "@/components/views-chart";
import "@/styles/channels.css";

const MAX_PAGES = 10;

async function allVideos(channelId: string): Promise<Video[]> {
  const videos: Video[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const result = await api.videos(channelId, page);
    videos.push(...result.results);
    if (!result.next) break;
  }
  return videos;
}

type Data = { videos: Video[]; outliers: Outliers; streak: UploadStreak };

export function ChannelAnalytics({ channelId }: { channelId: string }) {
  const [data, setData] = useState<Data | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setData(null);
    setError(null);
    Promise.all([allVideos(channelId), api.outliers(channelId), api.uploadStreak(channelId)])
      .then(([videos, outliers, streak]) => {
        if (!cancelled) setData({ videos, outliers, streak });
      })
      .catch((err: unknown) => {
        if (!cancelled) setError(err);
      });
    return () => {
      cancelled = true;
    };
  }, [channelId, attempt]);

  const flags = useMemo(
    () => new Map((data?.outliers.videos ?? []).map((video) => [video.video_id, video.flag])),
    [data],
  );

  if (error) return <ErrorBanner error={error} onRetry={() => setAttempt((n) => n + 1)} />;
  if (!data) {
    return (
      <p className="muted" role="status">
        Loading the channel…
      </p>
    );
  }
  const { outliers, streak, videos } = data;
  return (
    <div className="channel-analytics" data-testid="channel-analytics">
      <h1>{outliers.channel_title}</h1>
      <p className="small muted">
        {formatNumber(videos.length)} videos · median views {formatNumber(outliers.median_views_all)} ·{" "}
        {outliers.source}
      </p>
      <section className="card" aria-labelledby="chart-heading">
        <h2 id="chart-heading">Views by publish date</h2>
        <ViewsChart videos={videos} flags={flags} />
        <ul className="small muted groups">
          {Object.values(outliers.groups).map((group) => (
            <li key={group.group}>
              {group.group === "shorts" ? "Shorts" : "Long-form"}: {group.note}
              {group.median_views !== null ? `, median ${formatNumber(group.median_views)} views` : ""}
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-labelledby="table-heading">
        <h2 id="table-heading">Outliers</h2>
        <OutlierTable videos={outliers.videos} listing={outliers.listing} />
        <details className="small">
          <summary>How SmartScore works</summary>
          <p>{outliers.method}</p>
        </details>
      </section>
      <UploadCalendar streak={streak} publishedAt={videos.map((video) => video.published_at)} />
    </div>
  );
}
