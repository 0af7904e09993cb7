/** GET /api/videos/search/: YouTube (needs a key: 503 UPSTREAM_UNAVAILABLE without) or the
 * workspace's stored videos. */
import { apiJson } from "./client";
import { videoSearchSchema, type VideoSearch, type VideoSearchScope } from "./schemas";

export const MAX_SEARCH_RESULTS = 50;

export function searchVideos(opts: {
  query: string;
  scope?: VideoSearchScope;
  maxResults?: number;
  signal?: AbortSignal;
}): Promise<VideoSearch> {
  const params = new URLSearchParams({ q: opts.query.trim() });
  if (opts.scope && opts.scope !== "youtube") params.set("scope", opts.scope);
  if (opts.maxResults) params.set("max_results", String(opts.maxResults));
  return apiJson(videoSearchSchema, `/api/videos/search/?${params}`, { signal: opts.signal });
}
