import { beforeEach, describe, expect, it, vi } from "vitest";

const posthog = { init: vi.fn(), capture: vi.fn() };
vi.mock("posthog-js", () => ({ default: posthog }));

describe("analytics", () => {
  beforeEach(() => {
    vi.resetModules();
    posthog.init.mockClear();
    posthog.capture.mockClear();
  });

  it("does nothing without a key", async () => {
    const analytics = await import("@/lib/analytics");
    await analytics.initAnalytics(null);
    analytics.track("chat_sent");
    analytics.trackPageView("http://x/chat");
    expect(analytics.analyticsEnabled()).toBe(false);
    expect(posthog.init).not.toHaveBeenCalled();
    expect(posthog.capture).not.toHaveBeenCalled();
  });

  it("initialises PostHog with the configured key and sends page views, chat_sent, factoid_voted", async () => {
    const analytics = await import("@/lib/analytics");
    await analytics.initAnalytics({ key: "phc_test", host: "https://eu.i.posthog.com" });
    expect(posthog.init).toHaveBeenCalledWith(
      "phc_test",
      expect.objectContaining({ api_host: "https://eu.i.posthog.com", capture_pageview: false }),
    );
    analytics.trackPageView("http://x/factoids");
    analytics.track("chat_sent", { model: "offline" });
    analytics.track("factoid_voted", { vote: "up" });
    expect(posthog.capture.mock.calls.map((call) => call[0])).toEqual(["$pageview", "chat_sent", "factoid_voted"]);
  });
});
