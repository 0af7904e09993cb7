/**
 * PostHog, only when the backend's public config (GET /api/config/) names a key; otherwise
 * every call here does nothing. The library is loaded on demand, so builds without a key
 * never download it.
 */
import type { PostHog } from "posthog-js";

export type AnalyticsEvent = "chat_sent" | "factoid_voted";

let client: PostHog | null = null;
let starting: Promise<void> | null = null;

export function initAnalytics(config: { key: string; host?: string | null } | null): Promise<void> {
  if (!config?.key || typeof window === "undefined") return Promise.resolve();
  if (!starting) {
    starting = import("posthog-js").then(({ default: posthog }) => {
      posthog.init(config.key, {
        api_host: config.host || "https://us.i.posthog.com",
        capture_pageview: false, // the App Router changes pages without loads: see trackPageView
        autocapture: false,
        persistence: "localStorage",
      });
      client = posthog;
    });
  }
  return starting;
}

export function analyticsEnabled(): boolean {
  return client !== null;
}

export function trackPageView(url: string): void {
  client?.capture("$pageview", { $current_url: url });
}

export function track(event: AnalyticsEvent, properties: Record<string, unknown> = {}): void {
  client?.capture(event, properties);
}
