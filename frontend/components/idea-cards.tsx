"use client";
/** content_ideas' result: one card per concept with its SEO score, hook, main part and CTA;
 * in a conversation, a button asks the agent for thumbnails of that idea. */
import { thumbnailRequest, useChatActions } from "@/lib/chat-actions";
import "@/styles/tool-results.css";

type Concept = {
  title: string;
  seo_score?: number;
  keywords_in_title?: string[];
  description?: { hook?: string; main_content?: string; cta?: string };
  tags?: string[];
};
export type IdeasOutput = {
  topic?: string;
  concepts?: Concept[];
  seo_method?: string;
  fallback?: boolean;
  fallback_reason?: string | null;
};

export function IdeaCards({ output }: { output: IdeasOutput }) {
  const chat = useChatActions();
  return (
    <div className="tool-result">
      {output.fallback && (
        <p className="notice small">
          Fallback ideas: {output.fallback_reason ?? "the model did not answer in time"}.
        </p>
      )}
      <ul className="idea-cards">
        {(output.concepts ?? []).map((concept, index) => (
          <li key={`${index}-${concept.title}`} className="idea-card">
            <div className="idea-head">
              <h4>{concept.title}</h4>
              {typeof concept.seo_score === "number" && (
                <span className="score" title={output.seo_method}>
                  SEO {concept.seo_score}/100
                </span>
              )}
            </div>
            <dl>
              {concept.description?.hook && (
                <div>
                  <dt>Hook</dt>
                  <dd>{concept.description.hook}</dd>
                </div>
              )}
              {concept.description?.main_content && (
                <div>
                  <dt>Main</dt>
                  <dd>{concept.description.main_content}</dd>
                </div>
              )}
              {concept.description?.cta && (
                <div>
                  <dt>Call to action</dt>
                  <dd>{concept.description.cta}</dd>
                </div>
              )}
            </dl>
            {concept.tags && concept.tags.length > 0 && (
              <ul className="tags" aria-label="Tags">
                {concept.tags.map((tag) => (
                  <li key={tag}>{tag}</li>
                ))}
              </ul>
            )}
            {chat && (
              <button
                type="button"
                className="ghost small"
                disabled={chat.busy}
                onClick={() => chat.ask(thumbnailRequest(concept.title))}
              >
                Make thumbnails
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
