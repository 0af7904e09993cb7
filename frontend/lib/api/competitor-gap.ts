/** GET /api/channels/{id}/competitor-gap/: content gaps of a channel against competitors. */
import { apiJson } from "./client";
import { competitorGapSchema, type CompetitorGap } from "./schemas";

export type CompetitorGapOptions = {
  /** Channel ids to compare with; omitted: every competitor channel of the workspace. */
  competitors?: string[];
  minMultiple?: number;
  limit?: number;
};

export function competitorGapPath(channelId: string, options: CompetitorGapOptions = {}): string {
  const query = new URLSearchParams();
  for (const competitor of options.competitors ?? []) query.append("competitors", competitor);
  if (options.minMultiple !== undefined) query.set("min_multiple", String(options.minMultiple));
  if (options.limit !== undefined) query.set("limit", String(options.limit));
  const text = query.toString();
  const suffix = text ? `?${text}` : "";
  return `/api/channels/${encodeURIComponent(channelId)}/competitor-gap/${suffix}`;
}

export function competitorGap(channelId: string, options: CompetitorGapOptions = {}): Promise<CompetitorGap> {
  return apiJson(competitorGapSchema, competitorGapPath(channelId, options));
}
