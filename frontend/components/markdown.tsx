/**
 * Model output and imported text as sanitised Markdown: raw HTML is never parsed into
 * elements (no rehype-raw: it shows as text), unsafe URLs are dropped by react-markdown's
 * default URL transform, links open in a new tab with rel="noopener noreferrer", and
 * images become links (nothing is fetched from the text).
 */
import { memo } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import "@/styles/markdown.css";

const components: Components = {
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  ),
  img: ({ src, alt }) =>
    typeof src === "string" && src ? (
      <a href={src} target="_blank" rel="noopener noreferrer">
        {alt || src}
      </a>
    ) : (
      <>{alt}</>
    ),
};

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown components={components} skipHtml={false}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
