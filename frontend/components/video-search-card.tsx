/** Videos as cards (thumbnail, title, channel, views, likes, comments, publish date): the
 * video_search tool's chat card and the Search screen's results. */
import type { VideoResult, VideoSearchOutput } from "@/lib/api/schemas";
import { formatDate, formatNumber } from "@/lib/format";
import "@/styles/tool-results.css";

/** Only web addresses become an <img> (the backend stores nothing else, but it is data). */
export function safeThumbnail(url: string | null | undefined): string | null {
  return url && /^https?:\/\/[^\s]+$/i.test(url) ? url : null;
}

export function videoCount(n: number): string {
  return `${formatNumber(n)} ${n === 1 ? "video" : "videos"}`;
}

export function watchUrl(videoId: string): string {
  return `https://www.youtube.com/watch?v=${encodeURIComponent(videoId)}`;
}

export function formatDuration(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return null;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

/** A count, or what it means when the source hides it. */
function Count({ value, noun, hidden }: { value: number | null; noun: string; hidden: string }) {
  if (value === null) return <span className="muted">{hidden}</span>;
  return (
    <span>
      {formatNumber(value)} {noun}
    </span>
  );
}

export function VideoCard({ video }: { video: VideoResult }) {
  const thumbnail = safeThumbnail(video.thumbnail_url);
  const duration = formatDuration(video.duration_seconds);
  return (
    <li className="video-card" data-testid="video-card" data-video-id={video.video_id}>
      <a
        className="video-thumb"
        href={watchUrl(video.video_id)}
        target="_blank"
        rel="noopener noreferrer"
        tabIndex={-1}
        aria-hidden="true"
      >
        {thumbnail ? (
          <img src={thumbnail} alt="" loading="lazy" referrerPolicy="no-referrer" />
        ) : (
          <span className="video-thumb-placeholder" data-testid="thumbnail-placeholder" />
        )}
        {duration && <span className="video-duration">{duration}</span>}
      </a>
      <div className="video-body">
        <h4 className="video-title">
          <a href={watchUrl(video.video_id)} target="_blank" rel="noopener noreferrer">
            {video.title}
          </a>
        </h4>
        <p className="video-channel muted small">{video.channel_title}</p>
        <p className="video-stats small">
          <Count value={video.views} noun="views" hidden="views hidden" />
          {" · "}
          <Count value={video.likes} noun="likes" hidden="likes hidden" />
          {" · "}
          <Count value={video.comments} noun="comments" hidden="comments off" />
          {" · "}
          <span>{video.published_at ? formatDate(video.published_at) : "date unknown"}</span>
        </p>
      </div>
    </li>
  );
}

export function VideoCards({ videos, label }: { videos: VideoResult[]; label: string }) {
  return (
    <ul className="video-cards" aria-label={label}>
      {videos.map((video) => (
        <VideoCard key={video.video_id} video={video} />
      ))}
    </ul>
  );
}

/** The video_search tool's result in chat and history. */
export function VideoSearchCard({ output }: { output: VideoSearchOutput }) {
  const where = output.scope === "youtube" ? "YouTube" : "your stored channels";
  return (
    <div className="tool-result video-search-result">
      <p className="small">
        {output.results.length === 0
          ? `No videos for “${output.query}” on ${where}.`
          : `${videoCount(output.results.length)} for “${output.query}” on ${where}`}{" "}
        <span className="muted">({output.source})</span>
      </p>
      {output.scope_reason && <p className="muted small">Why: {output.scope_reason}.</p>}
      {output.results.length > 0 && <VideoCards videos={output.results} label={`Videos for ${output.query}`} />}
      {output.note && <p className="muted small">{output.note}</p>}
    </div>
  );
}
