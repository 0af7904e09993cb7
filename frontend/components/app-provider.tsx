"use client";
/**
 * Starts the app: makes sure the browser has an identity (GET /api/clients/me/, minting an
 * anonymous client on 401; the account from GET /api/accounts/me/ when signed in), loads
 * the public config (PostHog key, billing) and records page views. `AppGate` renders the
 * screens once the identity is settled; the header reads the same context.
 */
import { usePathname, useSearchParams } from "next/navigation";
import { Suspense, useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { api } from "@/lib/api";
import { ApiError } from "@/lib/api/errors";
import { isSignedIn } from "@/lib/account";
import { initAnalytics, trackPageView } from "@/lib/analytics";
import { AppContext, type AppState } from "@/lib/app-context";
import type { Account, Me, PublicConfig } from "@/lib/api/schemas";
import { ErrorBanner } from "@/components/error-banner";
import { useApp } from "@/hooks/use-app";

type Identity = { me: Me; account: Account | null };

async function identify(): Promise<Identity> {
  let me: Me;
  try {
    me = await api.me();
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "UNAUTHORIZED")) throw error;
    await api.mintClient();
    me = await api.me();
  }
  // A signed-in browser: its account (email, plan, credits) for the header and /account.
  const account = isSignedIn(me) ? await api.account().catch(() => null) : null;
  return { me, account };
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
  const [account, setAccount] = useState<Account | null>(null);
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
        setMe(who.me);
        setAccount(who.account);
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
  const refreshIdentity = useCallback(async () => {
    const who = await identify();
    setMe(who.me);
    setAccount(who.account);
  }, []);
  const value = useMemo<AppState>(
    () => ({ ready: me !== null, me, config, account, error, retry, refreshIdentity, setAccount }),
    [me, config, account, error, retry, refreshIdentity],
  );

  return (
    <AppContext.Provider value={value}>
      {analyticsReady && (
        <Suspense fallback={null}>
          <PageViews />
        </Suspense>
      )}
      {children}
    </AppContext.Provider>
  );
}

/** The screens, once the identity is settled; why not when the app could not start. */
export function AppGate({ children }: { children: ReactNode }) {
  const { me, error, retry } = useApp();
  if (error) {
    return (
      <div className="page">
        <ErrorBanner error={error} onRetry={retry} />
      </div>
    );
  }
  if (me === null) {
    return (
      <p className="page muted" role="status">
        Loading…
      </p>
    );
  }
  return <>{children}</>;
}
