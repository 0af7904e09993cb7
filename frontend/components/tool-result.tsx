/** A tool's result rendered for people, by tool name; anything else gets the generic view. */
import { OutliersCard, UploadStreakCard } from "@/components/channel-tool-cards";
import { CompetitorGapCard } from "@/components/competitor-gap-card";
import { GenericResult } from "@/components/generic-result";
import { HashtagTable, type HashtagOutput } from "@/components/hashtag-table";
import { IdeaCards, type IdeasOutput } from "@/components/idea-cards";
import { KeywordTable, type KeywordOutput } from "@/components/keyword-table";
import { ThumbnailConceptsCard, type ThumbnailToolOutput } from "@/components/thumbnail-concepts-card";
import { VideoSearchCard } from "@/components/video-search-card";
import { outliersSchema, uploadStreakSchema, videoSearchOutputSchema } from "@/lib/api/schemas";
import "@/styles/tool-results.css";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function ToolResult({ name, output }: { name: string; output: unknown }) {
  if (isRecord(output)) {
    if (name === "keyword_research" && Array.isArray(output.primary)) {
      return <KeywordTable output={output as KeywordOutput} />;
    }
    if (name === "hashtags" && Array.isArray(output.hashtags)) {
      return <HashtagTable output={output as HashtagOutput} />;
    }
    if (name === "thumbnail" && Array.isArray(output.thumbnails)) {
      return <ThumbnailConceptsCard output={output as ThumbnailToolOutput} />;
    }
    if (name === "content_ideas" && Array.isArray(output.concepts)) {
      return <IdeaCards output={output as IdeasOutput} />;
    }
    const role = typeof output.channel_role === "string" ? output.channel_role : undefined;
    if (name === "channel_outliers") {
      const parsed = outliersSchema.safeParse(output);
      if (parsed.success) return <OutliersCard output={parsed.data} role={role} />;
    }
    if (name === "upload_streak") {
      const parsed = uploadStreakSchema.safeParse(output);
      const title = typeof output.channel_title === "string" ? output.channel_title : "";
      if (parsed.success) return <UploadStreakCard output={parsed.data} title={title} role={role} />;
    }
    if (name === "competitor_gap") return <CompetitorGapCard output={output} />;
    if (name === "video_search") {
      const parsed = videoSearchOutputSchema.safeParse(output);
      if (parsed.success) return <VideoSearchCard output={parsed.data} />;
    }
    if (name === "factoid" && typeof output.factoid === "string") {
      return (
        <div className="tool-result">
          <blockquote>{output.factoid}</blockquote>
          <p className="muted small">Saved privately to your history (built from your channels, never in the public feed).</p>
        </div>
      );
    }
  }
  return <GenericResult output={output} />;
}
