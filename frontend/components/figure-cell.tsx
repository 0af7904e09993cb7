/** A measured figure in a table cell: its value with the sample on hover, or "—" with a
 * numbered note saying why there is no value (the notes are listed under the table).
 *
 * Plain functions, not components: they number a note while the table's JSX is built,
 * so the list under it (rendered after) already holds every note. */
import type { Figure, FigureSample } from "@/lib/api/schemas";
import { formatNumber } from "@/lib/format";

/** Reasons for empty cells, numbered in first-seen order (one collector per table). */
export class Notes {
  readonly reasons: string[] = [];

  mark(reason: string): number {
    const index = this.reasons.indexOf(reason);
    if (index >= 0) return index + 1;
    this.reasons.push(reason);
    return this.reasons.length;
  }
}

export function describeSample(sample: FigureSample | null | undefined): string {
  if (!sample) return "";
  const channels = `${formatNumber(sample.channels)} channel${sample.channels === 1 ? "" : "s"}`;
  const roles =
    sample.own_channels !== null && sample.own_channels !== undefined
      ? ` (${sample.own_channels} own, ${sample.competitor_channels ?? 0} competitor)`
      : "";
  return `${formatNumber(sample.videos)} video${sample.videos === 1 ? "" : "s"} from ${channels}${roles}`;
}

export function missing(reason: string, notes: Notes) {
  const number = notes.mark(reason);
  return (
    <span className="muted" title={reason} aria-label={`no value: ${reason}`} data-testid="figure-missing">
      —<sup>{number}</sup>
    </span>
  );
}

export function figureCell(
  figure: Figure | null | undefined,
  notes: Notes,
  { digits = 0, percent = false }: { digits?: number; percent?: boolean } = {},
) {
  if (!figure || figure.value === null) {
    return <td>{missing(figure?.reason ?? "not measured", notes)}</td>;
  }
  const sample = describeSample(figure.sample);
  const title = [figure.source, sample && `sample: ${sample}`].filter(Boolean).join(" · ");
  const value = percent ? `${formatNumber(figure.value * 100, digits)}%` : formatNumber(figure.value, digits);
  return <td title={title || undefined}>{value}</td>;
}

export function NoteList({ notes }: { notes: Notes }) {
  if (!notes.reasons.length) return null;
  return (
    <ol className="small muted figure-notes" aria-label="Why some figures are missing">
      {notes.reasons.map((reason) => (
        <li key={reason}>{reason}</li>
      ))}
    </ol>
  );
}
