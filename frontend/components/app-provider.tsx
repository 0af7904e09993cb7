"use client";
/**
 * Starts the app: makes sure the browser has an identity (GET /api/clients/me/, minting an
 * anonymous client on 401), loads the public config (PostHog key, billing) and records
 * page views. Screens render once the identity is settled.
 */
import { usePathname, useSearchParams } from "next/navigation";
import { Suspense, useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { api } from "@/lib/api";
import { ApiError } from "@/lib/api/errors";
import { initAnalytics, trackPageView } from "@/lib/analytics";
import { AppContext, type AppState } from "@/lib/app-context";
import type { Me, PublicConfig } from "@/lib/api/schemas";
import { ErrorBanner } from "@/components/error-banner";

async function identify(): Promise<Me> {
  try {
    return await api.me();
  } catch (error) {
    if (error instanceof ApiError && error.code === "UNAUTHORIZED") {
      await api.mintClient();
      return api.me();
    }
    throw error;
  }
}

function PageViews() {
  const pathname = usePathname();
  const search = useSearchParams();
  useEffect(() => {
    const query = search.toString();
    trackPageView(`${window.location.origin}${pathname}${query ? `?${query}` : ""}`);
  }, [pathname, search]);
  return null;
}

export function AppProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [config, setConfig] = useState<PublicConfig | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [analyticsReady, setAnalyticsReady] = useState(false);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    Promise.all([identify(), api.config().catch(() => null)])
      .then(async ([who, cfg]) => {
        if (cancelled) return;
        setMe(who);
        setConfig(cfg);
        await initAnalytics(cfg?.posthog ?? null);
        if (!cancelled) setAnalyticsReady(true);
      })
      .catch((err: unknown) => {
        if (!cancelled) setError(err);
      });
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  const value = useMemo<AppState>(
    () => ({ ready: me !== null, me, config, error, retry }),
    [me, config, error, retry],
  );

  return (
    <AppContext.Provider value={value}>
      {analyticsReady && (
        <Suspense fallback={null}>
          <PageViews />
        </Suspense>
      )}
      {error ? (
        <div className="page">
          <ErrorBanner error={error} onRetry={retry} />
        </div>
      ) : me === null ? (
        <p className="page muted" role="status">
          Loading…
        </p>
      ) : (
        children
      )}
    </AppContext.Provider>
  );
}
