"use client";
/** Video search: YouTube with fresh statistics (needs a YouTube Data API key on the server),
 * or the videos of your stored channels. Results as cards. */
import Link from "next/link";
import { useRef, useState, type FormEvent } from "react";
import { ErrorBanner } from "@/components/error-banner";
import { videoCount, VideoCards } from "@/components/video-search-card";
import { ApiError } from "@/lib/api/errors";
import type { VideoSearch, VideoSearchScope } from "@/lib/api/schemas";
import { searchVideos } from "@/lib/api/video-search";
import "@/styles/error-banner.css";
import "@/styles/search.css";

const SCOPE_LABELS: Record<VideoSearchScope, string> = {
  youtube: "YouTube",
  workspace: "Your channels",
};
export const MAX_QUERY_CHARS = 200;

/** 503 UPSTREAM_UNAVAILABLE on a YouTube search: the server has no key (or every key is out
 * of quota); the workspace can still be searched. */
function needsKey(error: unknown, scope: VideoSearchScope): boolean {
  return scope === "youtube" && error instanceof ApiError && error.code === "UPSTREAM_UNAVAILABLE";
}

export function SearchScreen() {
  const [query, setQuery] = useState("");
  const [scope, setScope] = useState<VideoSearchScope>("youtube");
  const [result, setResult] = useState<VideoSearch | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [failedScope, setFailedScope] = useState<VideoSearchScope>("youtube");
  const [loading, setLoading] = useState(false);
  const pending = useRef<AbortController | null>(null);

  async function run(text: string, where: VideoSearchScope) {
    if (!text.trim()) return;
    pending.current?.abort();
    const controller = new AbortController();
    pending.current = controller;
    setLoading(true);
    setError(null);
    try {
      const found = await searchVideos({ query: text, scope: where, signal: controller.signal });
      if (controller.signal.aborted) return;
      setResult(found);
    } catch (err) {
      if (controller.signal.aborted || (err instanceof DOMException && err.name === "AbortError")) return;
      setResult(null);
      setFailedScope(where);
      setError(err);
    } finally {
      if (pending.current === controller) {
        pending.current = null;
        setLoading(false);
      }
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void run(query, scope);
  }

  function searchWorkspace() {
    setScope("workspace");
    void run(query, "workspace");
  }

  const where = result ? SCOPE_LABELS[result.scope] : "";
  return (
    <div className="page search">
      <h1>Search</h1>
      <p className="muted">
        Find videos on a topic with their views, likes, comments and publish date — on YouTube, or among
        the videos of the channels you imported or added.
      </p>
      <form className="filters search-form" role="search" aria-label="Search videos" onSubmit={submit}>
        <label className="search-query">
          Search for
          <input
            type="search"
            name="q"
            value={query}
            maxLength={MAX_QUERY_CHARS}
            required
            placeholder="e.g. latte art for beginners"
            onChange={(event) => setQuery(event.target.value)}
          />
        </label>
        <label>
          In
          <select value={scope} onChange={(event) => setScope(event.target.value as VideoSearchScope)}>
            <option value="youtube">{SCOPE_LABELS.youtube}</option>
            <option value="workspace">{SCOPE_LABELS.workspace}</option>
          </select>
        </label>
        <button type="submit" disabled={loading || !query.trim()}>
          Search
        </button>
      </form>
      {error !== null && needsKey(error, failedScope) ? (
        <div role="alert" className="error-banner" data-testid="search-needs-key" data-code="UPSTREAM_UNAVAILABLE">
          <p className="error-title">YouTube search is not available</p>
          <p>
            Searching YouTube needs a YouTube Data API key on the server (<code>YOUTUBE_API_KEYS</code>),
            and none is configured or every key is out of quota for today.
          </p>
          <p className="error-action">You can search the videos of your own and competitor channels instead.</p>
          <div className="error-buttons">
            <button type="button" onClick={searchWorkspace} disabled={!query.trim()}>
              Search your channels’ videos
            </button>
          </div>
        </div>
      ) : error !== null ? (
        <ErrorBanner error={error} onRetry={() => void run(query, failedScope)} />
      ) : null}
      {loading && (
        <p className="muted small" role="status">
          Searching…
        </p>
      )}
      {result && !loading && (
        <section aria-label="Results">
          <p className="small" data-testid="search-summary">
            {result.results.length === 0
              ? `No videos found in ${where}.`
              : `${videoCount(result.results.length)} in ${where}`}{" "}
            <span className="muted">({result.source})</span>
          </p>
          {result.results.length > 0 && <VideoCards videos={result.results} label="Search results" />}
          {result.scope === "workspace" && result.results.length === 0 && (
            <p className="muted small">
              Only titles and tags of your stored channels are searched. Import or add channels on the{" "}
              <Link href="/channels">Channels</Link> page.
            </p>
          )}
        </section>
      )}
    </div>
  );
}
