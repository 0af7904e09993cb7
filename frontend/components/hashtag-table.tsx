/** hashtags' result: measured tags with how many videos and channels use them and those
 * videos' averages (a missing average says why), then the model's suggestions, marked. */
import type { z } from "zod";
import { describeSample, missing, NoteList, Notes } from "@/components/figure-cell";
import { GenericResult } from "@/components/generic-result";
import { type HashtagRow, hashtagOutputSchema } from "@/lib/api/schemas";
import { formatNumber, formatPercent } from "@/lib/format";
import "@/styles/tool-results.css";

export type HashtagOutput = z.input<typeof hashtagOutputSchema>;

export const HASHTAG_HEADERS = [
  "Hashtag",
  "Uses",
  "Channels using it",
  "Average views of those videos",
  "Average engagement of those videos",
  "Where from",
] as const;

function average(row: HashtagRow, value: string, notes: Notes) {
  if (row.suggested) return <td>—</td>;
  if (row.found_in === "text") return <td>{missing("counted in your text only", notes)}</td>;
  const isMissing =
    row.average_views === null || row.average_views === undefined || row.average_engagement_rate === null;
  if (isMissing) return <td>{missing(row.reason ?? "not measured", notes)}</td>;
  return <td title={describeSample(row.sample) || undefined}>{value}</td>;
}

function uses(row: HashtagRow) {
  if (row.suggested) return "—";
  if (row.found_in === "text") return `${formatNumber(row.text_occurrences ?? row.usage_count)}× in your text`;
  const inText = row.text_occurrences ? ` (${row.text_occurrences}× in your text)` : "";
  return `${formatNumber(row.usage_count)} videos${inText}`;
}

export function HashtagTable({ output }: { output: HashtagOutput }) {
  const parsed = hashtagOutputSchema.safeParse(output);
  if (!parsed.success) return <GenericResult output={output} />;
  const data = parsed.data;
  const notes = new Notes();
  const body = data.hashtags.map((row) => (
    <tr key={`${row.found_in ?? ""}:${row.tag}`}>
      <th scope="row">{row.tag}</th>
      <td>{uses(row)}</td>
      <td>{row.channels_using === null || row.channels_using === undefined ? "—" : formatNumber(row.channels_using)}</td>
      {average(row, formatNumber(row.average_views), notes)}
      {average(row, formatPercent(row.average_engagement_rate), notes)}
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
  ));
  return (
    <div className="tool-result">
      {data.corpus_note && (
        <p className="notice" role="note" data-testid="corpus-note">
          {data.corpus_note}
        </p>
      )}
      <p className="muted small">
        {data.platform ? `For ${data.platform}; ` : ""}
        {formatNumber(data.videos_analyzed ?? 0)} videos analysed
        {data.source ? ` from ${data.source}` : ""}
        {data.corpus ? ` (${describeSample(data.corpus)})` : ""}.
      </p>
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Hashtags</caption>
          <thead>
            <tr>
              {HASHTAG_HEADERS.map((header) => (
                <th scope="col" key={header}>
                  {header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>{body}</tbody>
        </table>
        <NoteList notes={notes} />
      </div>
      {data.suggestions_note && <p className="muted small">{data.suggestions_note}</p>}
    </div>
  );
}
