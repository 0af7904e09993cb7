/** People's names for the agent's tools. */
const LABELS: Record<string, string> = {
  content_ideas: "Content ideas",
  keyword_research: "Keyword research",
  hashtags: "Hashtags",
  factoid: "Factoid",
  channel_outliers: "Channel outliers",
  competitor_gap: "Content gaps",
  upload_streak: "Upload streak",
  viral_score: "Viral score",
  video_search: "Video search",
  thumbnail: "Thumbnails",
  model_call: "Model call",
};

export function toolLabel(name: string): string {
  return LABELS[name] ?? name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** Arguments in one line: `topic: home espresso · platform: youtube`. */
export function argsSummary(args: unknown): string {
  if (!args || typeof args !== "object") return "";
  return Object.entries(args as Record<string, unknown>)
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .map(([key, value]) => `${key.replace(/_/g, " ")}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" · ");
}
