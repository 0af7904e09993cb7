/** Chat cards for the channel tools: outliers and upload consistency of one channel. */
import { OutlierTable } from "@/components/outlier-table";
import type { Outliers, UploadStreak } from "@/lib/api/schemas";
import { formatDate, formatNumber } from "@/lib/format";
import "@/styles/tool-results.css";
import "@/styles/channels.css";

// Rows of the outlier table in a chat card; the Channels page shows them all.
const CHAT_ROWS = 12;

function ChannelHeading({ title, role }: { title: string; role?: string }) {
  return (
    <p className="channel-card-heading">
      <strong>{title}</strong>
      {role ? <span className="badge">{role === "own" ? "your channel" : "competitor"}</span> : null}
    </p>
  );
}

export function OutliersCard({ output, role }: { output: Outliers; role?: string }) {
  const groups = Object.values(output.groups);
  return (
    <div className="tool-result" data-testid="outliers-card">
      <ChannelHeading title={output.channel_title} role={role} />
      <ul className="small">
        {groups.map((group) => (
          <li key={group.group}>
            {group.group === "shorts" ? "Shorts" : "Long-form"}: {formatNumber(group.count)} videos, median{" "}
            {group.median_views === null ? "—" : formatNumber(group.median_views)} views · {group.note}
          </li>
        ))}
      </ul>
      <OutlierTable
        videos={output.videos.slice(0, CHAT_ROWS)}
        listing={output.videos.length > CHAT_ROWS ? `${output.listing}; the ${CHAT_ROWS} best shown here` : output.listing}
      />
      <p className="small muted">
        {output.source} · as of {formatDate(output.as_of)}
      </p>
    </div>
  );
}

export function UploadStreakCard({
  output,
  title,
  role,
}: {
  output: UploadStreak;
  title: string;
  role?: string;
}) {
  const recent = output.uploads_per_week.slice(-26);
  const max = Math.max(1, ...recent.map((week) => week.count));
  return (
    <div className="tool-result" data-testid="upload-streak-card">
      <ChannelHeading title={title} role={role} />
      <p>
        <span className="big">{output.score}</span> <span className="muted">/ 100 consistency score</span>
      </p>
      <ul className="small">
        <li>
          Weekly streak: {output.current_weekly_streak} now, {output.longest_weekly_streak} at best
        </li>
        <li>
          Average days between uploads:{" "}
          {output.average_days_between_uploads === null ? "—" : output.average_days_between_uploads.toFixed(1)}
        </li>
        <li>
          {formatNumber(output.upload_count)} uploads: {formatNumber(output.long_form_count)} long-form,{" "}
          {formatNumber(output.shorts_count)} Shorts · last {output.last_upload_at ? formatDate(output.last_upload_at) : "—"}
        </li>
      </ul>
      <div className="week-bars" aria-label="Uploads per week, last 26 weeks">
        {recent.map((week) => (
          <span
            key={week.week_start}
            className="week-bar"
            title={`${formatDate(week.week_start)}: ${week.count}`}
            style={{ height: `${Math.round((week.count / max) * 100)}%` }}
          />
        ))}
      </div>
      <p className="small muted">
        {output.method} · {output.source}
      </p>
    </div>
  );
}
