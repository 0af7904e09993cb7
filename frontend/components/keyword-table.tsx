/** keyword_research's result: one table per list; every figure is called what it is, says
 * its source and sample on hover, and a missing one says why (numbered notes). */
import type { z } from "zod";
import { describeSample, figureCell, missing, NoteList, Notes } from "@/components/figure-cell";
import { GenericResult } from "@/components/generic-result";
import { type KeywordResearch, type KeywordRow, keywordOutputSchema } from "@/lib/api/schemas";
import { formatNumber, humanize } from "@/lib/format";
import "@/styles/tool-results.css";

export type KeywordOutput = z.input<typeof keywordOutputSchema>;

const LISTS = [
  ["primary", "Primary keywords"],
  ["long_tail", "Long-tail keywords"],
  ["trending", "Trending keywords (last 90 days)"],
] as const;

export const CORPUS_HEADERS = [
  "Views/month of matching videos (proxy)",
  "Competition (corpus)",
  "Relevance (corpus)",
] as const;
export const YOUTUBE_HEADERS = [
  "Result-count estimate",
  "YouTube competition (sampled)",
  "Views/day of top results (sampled)",
] as const;

function youtubeCells(row: KeywordRow, notes: Notes) {
  const youtube = row.youtube;
  if (!youtube || youtube.status !== "sampled") {
    const reason = youtube?.reason ?? "not sampled";
    return YOUTUBE_HEADERS.map((header) => <td key={header}>{missing(reason, notes)}</td>);
  }
  const estimate = youtube.result_count_estimate;
  return (
    <>
      <td title="YouTube's own estimate (an approximation), not a count of searches">
        {estimate && estimate.value !== null
          ? `≈ ${formatNumber(estimate.value)}`
          : missing(estimate?.reason ?? "not given", notes)}
      </td>
      {figureCell(youtube.search_competition, notes)}
      {figureCell(youtube.search_demand, notes)}
    </>
  );
}

function KeywordList({
  label,
  rows,
  withYouTube,
}: {
  label: string;
  rows: KeywordRow[];
  withYouTube: boolean;
}) {
  const notes = new Notes();
  const body = rows.map((row) => (
    <tr key={row.keyword}>
      <th scope="row">{row.keyword}</th>
      {figureCell(row.demand_proxy, notes)}
      {figureCell(row.competition, notes)}
      {figureCell(row.relevance, notes, { digits: 0, percent: true })}
      <td title={describeSample(row.demand_proxy?.sample) || undefined}>
        {formatNumber(row.matching_videos)}
      </td>
      {withYouTube && youtubeCells(row, notes)}
      <td>{row.proposed_by ?? "—"}</td>
    </tr>
  ));
  return (
    <div className="table-wrap">
      <table>
        <caption>{label}</caption>
        <thead>
          <tr>
            <th scope="col">Keyword</th>
            {CORPUS_HEADERS.map((header) => (
              <th scope="col" key={header}>
                {header}
              </th>
            ))}
            <th scope="col">Matching videos</th>
            {withYouTube &&
              YOUTUBE_HEADERS.map((header) => (
                <th scope="col" key={header}>
                  {header}
                </th>
              ))}
            <th scope="col">Proposed by</th>
          </tr>
        </thead>
        <tbody>{body}</tbody>
      </table>
      <NoteList notes={notes} />
    </div>
  );
}

function YouTubeLine({ youtube }: { youtube: KeywordResearch["youtube"] }) {
  if (!youtube) return null;
  if (!youtube.available || !youtube.sampled.length) {
    return (
      <p className="muted small" data-testid="youtube-sample-note">
        YouTube search: {youtube.note ?? "no keyword was sampled"}
      </p>
    );
  }
  return (
    <p className="muted small" data-testid="youtube-sample-note">
      YouTube search sampled for {youtube.sampled.join(", ")} (top {youtube.max_results ?? "?"}{" "}
      results each; {youtube.from_cache} from the cache; {formatNumber(youtube.units_spent)} quota
      units). The result count is YouTube&apos;s estimate; views per day are views, not searches.
    </p>
  );
}

export function KeywordTable({ output }: { output: KeywordOutput }) {
  const parsed = keywordOutputSchema.safeParse(output);
  if (!parsed.success) return <GenericResult output={output} />;
  const data = parsed.data;
  const withYouTube = Boolean(data.youtube?.available && data.youtube.sampled.length);
  return (
    <div className="tool-result">
      {data.corpus_note && (
        <p className="notice" role="note" data-testid="corpus-note">
          {data.corpus_note}
        </p>
      )}
      {data.source && (
        <p className="muted small">
          Measured on {data.source}
          {data.corpus ? ` (${describeSample(data.corpus)})` : ""}.
        </p>
      )}
      {LISTS.map(([key, label]) =>
        data[key].length ? (
          <KeywordList key={key} label={label} rows={data[key]} withYouTube={withYouTube} />
        ) : null,
      )}
      {data.related_topics.length > 0 && (
        <p className="small">
          Related: {data.related_topics.map((topic) => topic.keyword).join(", ")}
        </p>
      )}
      <YouTubeLine youtube={data.youtube} />
      {data.model_candidates_note && <p className="muted small">{data.model_candidates_note}</p>}
      {data.methods && (
        <details className="small">
          <summary>How these are measured</summary>
          <dl>
            {Object.entries(data.methods).map(([name, method]) => (
              <div key={name}>
                <dt>{humanize(name)}</dt>
                <dd>{method}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </div>
  );
}
