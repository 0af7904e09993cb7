/** hashtags' result: measured tags with their numbers, then the model's suggestions, marked. */
import { formatNumber, formatPercent } from "@/lib/format";

type Hashtag = {
  tag: string;
  suggested?: boolean;
  found_in?: string;
  usage_count?: number | null;
  average_views?: number | null;
  average_engagement_rate?: number | null;
  source?: string | null;
};
export type HashtagOutput = {
  topic?: string;
  platform?: string;
  videos_analyzed?: number;
  source?: string;
  hashtags?: Hashtag[];
  suggestions_note?: string | null;
};

export function HashtagTable({ output }: { output: HashtagOutput }) {
  const rows = output.hashtags ?? [];
  return (
    <div className="tool-result">
      <p className="muted small">
        {output.platform ? `For ${output.platform}; ` : ""}
        {formatNumber(output.videos_analyzed ?? 0)} videos analysed
        {output.source ? ` from ${output.source}` : ""}.
      </p>
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Hashtags</caption>
          <thead>
            <tr>
              <th scope="col">Hashtag</th>
              <th scope="col">Uses</th>
              <th scope="col">Average views</th>
              <th scope="col">Engagement</th>
              <th scope="col">Where from</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.tag}>
                <th scope="row">{row.tag}</th>
                <td>{formatNumber(row.usage_count)}</td>
                <td>{formatNumber(row.average_views)}</td>
                <td>{formatPercent(row.average_engagement_rate)}</td>
                <td>
                  {row.suggested ? (
                    <span className="badge" title="Proposed by the model, never measured">
                      suggested
                    </span>
                  ) : (
                    <span title={row.source ?? undefined}>{row.found_in ?? "measured"}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {output.suggestions_note && <p className="muted small">{output.suggestions_note}</p>}
    </div>
  );
}
