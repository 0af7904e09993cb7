/** keyword_research's result: one table per list, every number with its source. */
import { formatNumber, humanize } from "@/lib/format";

type Metric = { value: number | null; source?: string; reason?: string | null };
type Keyword = {
  keyword: string;
  proposed_by?: string;
  matching_videos?: number;
  search_volume?: Metric;
  competition?: Metric;
  relevance?: Metric;
};
type RelatedTopic = { topic?: string; keyword?: string; kind?: string; co_occurrences?: number; lift?: number };
export type KeywordOutput = {
  topic?: string;
  source?: string;
  videos_analyzed?: number;
  methods?: Record<string, string>;
  primary?: Keyword[];
  long_tail?: Keyword[];
  trending?: Keyword[];
  related_topics?: RelatedTopic[];
  model_candidates_note?: string | null;
};

const LISTS = [
  ["primary", "Primary keywords"],
  ["long_tail", "Long-tail keywords"],
  ["trending", "Trending keywords"],
] as const;

function MetricCell({ metric, digits = 0 }: { metric?: Metric; digits?: number }) {
  if (!metric) return <td>—</td>;
  if (metric.value === null || metric.value === undefined) {
    return (
      <td className="muted" title={metric.reason ?? undefined}>
        no data{metric.reason ? `: ${metric.reason}` : ""}
      </td>
    );
  }
  return <td title={metric.source}>{formatNumber(metric.value, digits)}</td>;
}

export function KeywordTable({ output }: { output: KeywordOutput }) {
  return (
    <div className="tool-result">
      {output.source && <p className="muted small">Measured on {output.source}.</p>}
      {LISTS.map(([key, label]) => {
        const rows = output[key] ?? [];
        if (!rows.length) return null;
        return (
          <div className="table-wrap" key={key}>
            <table>
              <caption>{label}</caption>
              <thead>
                <tr>
                  <th scope="col">Keyword</th>
                  <th scope="col">Search volume</th>
                  <th scope="col">Competition</th>
                  <th scope="col">Relevance</th>
                  <th scope="col">Videos</th>
                  <th scope="col">Proposed by</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.keyword}>
                    <th scope="row">{row.keyword}</th>
                    <MetricCell metric={row.search_volume} />
                    <MetricCell metric={row.competition} digits={1} />
                    <MetricCell metric={row.relevance} digits={2} />
                    <td>{formatNumber(row.matching_videos)}</td>
                    <td>{row.proposed_by ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      })}
      {output.related_topics && output.related_topics.length > 0 && (
        <p className="small">
          Related:{" "}
          {output.related_topics
            .map((topic) => topic.topic ?? topic.keyword ?? "")
            .filter(Boolean)
            .join(", ")}
        </p>
      )}
      {output.model_candidates_note && <p className="muted small">{output.model_candidates_note}</p>}
      {output.methods && (
        <details className="small">
          <summary>How these are measured</summary>
          <dl>
            {Object.entries(output.methods).map(([name, method]) => (
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
