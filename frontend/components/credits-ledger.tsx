"use client";
/** The credits ledger (GET /api/payments/credits/): purchases, usage, refunds; the balance is their sum. */
import { useCallback, useEffect, useState } from "react";
import { api } from "@/lib/api";
import type { CreditEntry } from "@/lib/api/schemas";
import { creditKindLabel, formatUsd } from "@/lib/account";
import { formatDate } from "@/lib/format";
import { ErrorBanner } from "@/components/error-banner";

export function CreditsLedger({ refreshKey = 0 }: { refreshKey?: number }) {
  const [entries, setEntries] = useState<CreditEntry[] | null>(null);
  const [balance, setBalance] = useState<string | null>(null);
  const [page, setPage] = useState(1);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async (next: number) => {
    setLoading(true);
    try {
      const result = await api.credits(next);
      setEntries((list) => (next === 1 ? result.results : [...(list ?? []), ...result.results]));
      setBalance(result.balance_usd);
      setHasMore(result.next !== null);
      setPage(next);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load(1);
  }, [load, refreshKey]);

  return (
    <section className="card" aria-labelledby="credits-heading" data-testid="credits-ledger">
      <h2 id="credits-heading">Credits</h2>
      <p>
        Balance: <strong data-testid="ledger-balance">{balance === null ? "—" : formatUsd(balance)}</strong>
      </p>
      {error ? <ErrorBanner error={error} onRetry={() => void load(1)} /> : null}
      {entries !== null && entries.length === 0 && (
        <p className="muted small">No credit entries yet. Bought credits and what model calls draw from them show here.</p>
      )}
      {entries !== null && entries.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Credit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">What</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry, index) => (
                <tr key={`${entry.created_at}-${index}`} data-testid="credit-entry" data-kind={entry.kind}>
                  <td>{formatDate(entry.created_at)}</td>
                  <td>{creditKindLabel(entry)}</td>
                  <td className="num">{formatUsd(entry.amount_usd)}</td>
                  <td>{entry.note}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {hasMore && (
        <button type="button" className="ghost" onClick={() => void load(page + 1)} disabled={loading}>
          Show more
        </button>
      )}
      {loading && entries === null && (
        <p className="muted small" role="status">
          Loading credits…
        </p>
      )}
    </section>
  );
}
