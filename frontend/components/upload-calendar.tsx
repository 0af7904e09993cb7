/** Uploads per day as a heat-map (weeks × weekdays) beside the upload-consistency score. */
import type { UploadStreak } from "@/lib/api/schemas";
import { calendarEnd, intensity, uploadCalendar } from "@/lib/calendar";
import { formatDate, formatNumber, humanize } from "@/lib/format";
import "@/styles/channels.css";

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export function UploadCalendar({ streak, publishedAt }: { streak: UploadStreak; publishedAt: string[] }) {
  const weekCount = Math.max(1, streak.uploads_per_week.length || 26);
  const end = calendarEnd(publishedAt, streak.as_of, weekCount);
  const weeks = uploadCalendar(publishedAt, end, weekCount);
  const max = Math.max(0, ...weeks.flatMap((week) => week.days.map((day) => day.count)));
  return (
    <section className="card calendar" aria-labelledby="calendar-heading">
      <h2 id="calendar-heading">Upload consistency</h2>
      <div className="calendar-top">
        <div className="streak-score" data-testid="streak-score">
          <span className="big">{streak.score}</span>
          <span className="muted">/ 100 algorithm score</span>
        </div>
        <dl className="stats">
          <div>
            <dt>Current weekly streak</dt>
            <dd>{streak.current_weekly_streak} weeks</dd>
          </div>
          <div>
            <dt>Longest weekly streak</dt>
            <dd>{streak.longest_weekly_streak} weeks</dd>
          </div>
          <div>
            <dt>Days between uploads</dt>
            <dd>{formatNumber(streak.average_days_between_uploads, 1)}</dd>
          </div>
          <div>
            <dt>Last upload</dt>
            <dd>{formatDate(streak.last_upload_at)}</dd>
          </div>
          <div>
            <dt>Shorts / long-form</dt>
            <dd>
              {streak.shorts_count} / {streak.long_form_count}
            </dd>
          </div>
        </dl>
      </div>
      <ul className="components" aria-label="Score components">
        {Object.entries(streak.components).map(([name, value]) => (
          <li key={name}>
            <span>{humanize(name)}</span>
            <meter min={0} max={1} value={value} aria-label={humanize(name)} />
            <span className="small">{formatNumber(value, 2)}</span>
          </li>
        ))}
      </ul>
      <div className="table-wrap">
        <table className="heatmap">
          <caption className="small muted">
            Uploads per day, {weeks.length} weeks to {formatDate(end)}
            {end !== streak.as_of ? " (the last upload; none since)" : ""}
          </caption>
          <tbody>
            {WEEKDAYS.map((label, row) => (
              <tr key={label}>
                <th scope="row" className="small">
                  {label}
                </th>
                {weeks.map((week) => {
                  const day = week.days[row];
                  const words = `${formatDate(day.date)}: ${day.count} upload${day.count === 1 ? "" : "s"}`;
                  return (
                    <td
                      key={day.date}
                      className={`cell level-${day.future ? "future" : intensity(day.count, max)}`}
                      title={day.future ? undefined : words}
                    >
                      {!day.future && day.count > 0 && <span className="sr-only">{words}</span>}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <details className="small">
        <summary>How the score is computed</summary>
        <p>{streak.method}</p>
        <p className="muted">Source: {streak.source}</p>
      </details>
    </section>
  );
}
