/**
 * competitor_gap's result: each content gap with its score (the formula and its parts on
 * hover and under "How"), and its proof videos — title linked to YouTube, channel, views,
 * and how many times that channel's median views it reached. The chat card and the
 * Channels page panel render the same view.
 */
import { GenericResult } from "@/components/generic-result";
import { competitorGapSchema, type CompetitorGap, type Gap } from "@/lib/api/schemas";
import { formatNumber } from "@/lib/format";
import "@/styles/tool-results.css";

const part = (value: number) => value.toFixed(2);

/** The numbers behind a gap's score, in the formula's letters. */
export function scoreBreakdown(gap: Gap): string {
  const c = gap.score_components;
  return (
    `C (channels) ${part(c.channels)}, M (multiple) ${part(c.multiple)}, ` +
    `H (hit rate) ${part(c.hit_rate)}, R (recency) ${part(c.recency)}`
  );
}

export function youtubeWatchUrl(videoId: string): string {
  return `https://www.youtube.com/watch?v=${encodeURIComponent(videoId)}`;
}

function GapItem({ gap, formula }: { gap: Gap; formula: string }) {
  const breakdown = scoreBreakdown(gap);
  const more = gap.proof_count - gap.proof_videos.length;
  return (
    <li className="gap-item" data-testid="gap">
      <div className="idea-head">
        <h4>{gap.topic}</h4>
        <span className="score" title={`${formula}\n${breakdown}`} aria-label={`score ${gap.score} of 100`}>
          {gap.score}/100
        </span>
      </div>
      <p className="small muted">
        {gap.sample}
        {gap.also_terms.length > 0 && <> · also: {gap.also_terms.join(", ")}</>}
      </p>
      <ul className="gap-proofs" aria-label={`Proof videos for ${gap.topic}`}>
        {gap.proof_videos.map((video) => (
          <li key={video.video_id}>
            <a href={youtubeWatchUrl(video.video_id)} target="_blank" rel="noopener noreferrer">
              {video.title}
            </a>{" "}
            <span className="small muted">
              {video.channel_title} · {formatNumber(video.views)} views ·{" "}
              <span title={`${formatNumber(video.channel_median_views)} median views on ${video.channel_title}`}>
                ×{video.multiple.toFixed(1)} median
              </span>
            </span>
          </li>
        ))}
      </ul>
      {more > 0 && <p className="small muted">…and {more} more proof videos.</p>}
      <details className="small">
        <summary>How this score is computed</summary>
        <p>{breakdown}</p>
        <p>
          <code>{formula}</code>
        </p>
      </details>
    </li>
  );
}

export function CompetitorGapView({ report }: { report: CompetitorGap }) {
  const skipped = report.competitors.filter((channel) => channel.status === "skipped");
  return (
    <div className="competitor-gaps">
      <p className="small muted">
        {report.channel_title} against {report.channels_analysed} competitor channel(s):{" "}
        {formatNumber(report.outlier_videos)} of their {formatNumber(report.mature_videos)} videos at least{" "}
        {report.min_age_days} days old reached ×{report.min_multiple} their channel&apos;s median views;{" "}
        {formatNumber(report.own.videos)} of {report.own.channel_title}&apos;s videos checked ({report.own.source}).
      </p>
      {skipped.length > 0 && (
        <ul className="notice small" aria-label="Skipped channels">
          {skipped.map((channel) => (
            <li key={channel.channel_id}>
              Skipped {channel.channel_title}: {channel.skip_reason}
            </li>
          ))}
        </ul>
      )}
      {report.gaps.length === 0 ? (
        <p>No content gap found: {report.reason ?? "nothing qualified"}.</p>
      ) : (
        <ol className="gap-list">
          {report.gaps.map((gap) => (
            <GapItem key={gap.topic} gap={gap} formula={report.score_formula} />
          ))}
        </ol>
      )}
      {report.gaps_found > report.gaps_listed && (
        <p className="small muted">
          The top {report.gaps_listed} of {report.gaps_found} gaps.
        </p>
      )}
      <details className="small">
        <summary>How gaps are found and scored</summary>
        <p>{report.outlier_rule}.</p>
        <p>{report.topic_method}.</p>
        <p>
          <code>{report.score_formula}</code>
        </p>
      </details>
    </div>
  );
}

/** The chat card: an output of another shape falls back to the generic view. */
export function CompetitorGapCard({ output }: { output: unknown }) {
  const parsed = competitorGapSchema.safeParse(output);
  if (!parsed.success) return <GenericResult output={output} />;
  return (
    <div className="tool-result" data-testid="competitor-gap-card">
      <CompetitorGapView report={parsed.data} />
    </div>
  );
}
