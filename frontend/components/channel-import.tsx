"use client";
/** Import a CSV export (YouTube Data API column names) of one or several channels. */
import { useRef, useState, type FormEvent } from "react";
import { api } from "@/lib/api";
import type { ImportResult } from "@/lib/api/schemas";
import { ErrorBanner } from "@/components/error-banner";
import "@/styles/channels.css";

/** "Alpha (your primary channel)", "Beta (competitor)": what each imported channel became. */
export function importedChannelLabel(channel: ImportResult["channels"][number]): string {
  if (channel.primary) return `${channel.title} (your primary channel)`;
  if (channel.role === "own") return `${channel.title} (yours)`;
  if (channel.role === "competitor") return `${channel.title} (competitor)`;
  return channel.title;
}

export function ChannelImport({ onImported }: { onImported: (result: ImportResult) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ImportResult | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const file = input.current?.files?.[0];
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const imported = await api.importChannels(file);
      setResult(imported);
      onImported(imported);
      if (input.current) input.current.value = "";
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card side-form" onSubmit={submit} aria-labelledby="import-heading">
      <h2 id="import-heading">Import a CSV</h2>
      <label htmlFor="channel-csv">CSV file (YouTube Data API columns)</label>
      <input id="channel-csv" ref={input} type="file" accept=".csv,text/csv" required />
      <button type="submit" disabled={busy}>
        {busy ? "Importing…" : "Import"}
      </button>
      {result && (
        <div role="status" className="small" data-testid="import-result">
          <p>
            Imported {result.imported_rows} of {result.rows_read} rows into{" "}
            {result.channels.map(importedChannelLabel).join(", ") || "no channel"}.
            {result.rejected_rows > 0 && ` ${result.rejected_rows} rows rejected.`}
          </p>
          {result.rejected.length > 0 && (
            <ul className="rejected">
              {result.rejected.map((row) => (
                <li key={`${row.row_number}-${row.field}`}>
                  Row {row.row_number}, {row.field}: {row.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {error ? <ErrorBanner error={error} onDismiss={() => setError(null)} /> : null}
    </form>
  );
}
