"use client";
/** The Channels page's content-gap panel for the primary own channel (same numbers as chat). */
import { useEffect, useState } from "react";
import { competitorGap } from "@/lib/api/competitor-gap";
import type { CompetitorGap } from "@/lib/api/schemas";
import { CompetitorGapView } from "@/components/competitor-gap-card";
import { ErrorBanner } from "@/components/error-banner";

export function CompetitorGapPanel({
  channelId,
  channelName,
  competitorCount,
}: {
  channelId: string;
  channelName: string;
  competitorCount: number;
}) {
  const [report, setReport] = useState<CompetitorGap | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (competitorCount === 0) return;
    let cancelled = false;
    setReport(null);
    setError(null);
    competitorGap(channelId)
      .then((result) => {
        if (!cancelled) setReport(result);
      })
      .catch((err: unknown) => {
        if (!cancelled) setError(err);
      });
    return () => {
      cancelled = true;
    };
  }, [channelId, competitorCount, attempt]);

  let body;
  if (competitorCount === 0) {
    body = (
      <p className="muted small">
        Import or add your competitors&apos; channels (or set a channel&apos;s role to competitor) to see the
        topics their breakout videos cover and yours don&apos;t.
      </p>
    );
  } else if (error) {
    body = <ErrorBanner error={error} onRetry={() => setAttempt((n) => n + 1)} />;
  } else if (!report) {
    body = (
      <p className="muted" role="status">
        Comparing with {competitorCount} competitor channel(s)…
      </p>
    );
  } else {
    body = <CompetitorGapView report={report} />;
  }
  return (
    <section className="card" aria-labelledby="competitor-gap-heading" data-testid="competitor-gap-panel">
      <h2 id="competitor-gap-heading">Content gaps: {channelName} vs competitors</h2>
      {body}
    </section>
  );
}
