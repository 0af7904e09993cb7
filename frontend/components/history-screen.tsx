"use client";
/** History: every result your tools generated — chat tool calls and REST calls — newest
 * first, each rendered with the same card the chat uses. */
import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { ErrorBanner } from "@/components/error-banner";
import { ToolResult } from "@/components/tool-result";
import { historyPage, HISTORY_PAGE_SIZE } from "@/lib/api/history";
import type { HistoryEntry } from "@/lib/api/schemas";
import { argsSummary, toolLabel } from "@/lib/tool-labels";
import "@/styles/history.css";

/** The tools the filter offers (the backend answers 400 to a name it does not know). */
export const HISTORY_TOOLS = [
  "content_ideas",
  "keyword_research",
  "hashtags",
  "factoid",
  "viral_score",
  "channel_outliers",
  "upload_streak",
  "competitor_gap",
  "video_search",
  "list_channels",
] as const;

const SOURCE_LABELS: Record<HistoryEntry["source"], string> = { chat: "Chat", api: "REST API" };

export function formatWhen(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString("en-US", {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

function HistoryItem({ entry }: { entry: HistoryEntry }) {
  const args = argsSummary(entry.input);
  return (
    <li className="card history-entry" data-testid="history-entry" data-tool={entry.tool} data-source={entry.source}>
      <div className="history-head">
        <h2 className="history-tool">{toolLabel(entry.tool)}</h2>
        <span className={`badge history-source-${entry.source}`}>{SOURCE_LABELS[entry.source]}</span>
        <time className="muted small" dateTime={entry.created_at}>
          {formatWhen(entry.created_at)}
        </time>
        {entry.source === "chat" && entry.session_id && (
          <Link className="small" href={`/chat?session=${encodeURIComponent(entry.session_id)}`}>
            Open the chat
          </Link>
        )}
      </div>
      {args && <p className="muted small history-args">{args}</p>}
      <ToolResult name={entry.tool} output={entry.result} />
    </li>
  );
}

export function HistoryScreen() {
  const [tool, setTool] = useState("");
  const [source, setSource] = useState<"" | HistoryEntry["source"]>("");
  const [entries, setEntries] = useState<HistoryEntry[]>([]);
  const [count, setCount] = useState(0);
  const [page, setPage] = useState(1);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(
    async (nextPage: number) => {
      setLoading(true);
      try {
        const result = await historyPage({
          page: nextPage,
          pageSize: HISTORY_PAGE_SIZE,
          tool: tool || undefined,
          source: source || undefined,
        });
        setEntries((list) => {
          if (nextPage === 1) return result.results;
          // Entries recorded meanwhile shift the pages: keep each entry once.
          const seen = new Set(list.map((item) => item.id));
          return [...list, ...result.results.filter((item) => !seen.has(item.id))];
        });
        setCount(result.count);
        setHasMore(result.next !== null);
        setPage(nextPage);
        setError(null);
      } catch (err) {
        setError(err);
      } finally {
        setLoading(false);
      }
    },
    [tool, source],
  );

  useEffect(() => {
    void load(1);
  }, [load]);

  return (
    <div className="page history">
      <h1>History</h1>
      <p className="muted">
        Every result your tools generated, newest first: the tool calls of your chats and your REST API calls.
      </p>
      <form className="filters" aria-label="Filter history" onSubmit={(event) => event.preventDefault()}>
        <label>
          Tool
          <select value={tool} onChange={(event) => setTool(event.target.value)}>
            <option value="">All tools</option>
            {HISTORY_TOOLS.map((name) => (
              <option key={name} value={name}>
                {toolLabel(name)}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <select value={source} onChange={(event) => setSource(event.target.value as "" | HistoryEntry["source"])}>
            <option value="">Chat and REST</option>
            <option value="chat">{SOURCE_LABELS.chat}</option>
            <option value="api">{SOURCE_LABELS.api}</option>
          </select>
        </label>
      </form>
      {error ? <ErrorBanner error={error} onRetry={() => void load(page)} /> : null}
      {!loading && !error && entries.length === 0 && (
        <p className="muted">
          Nothing here yet{tool ? ` for ${toolLabel(tool)}` : ""}. Results appear as soon as a tool runs in a{" "}
          <Link href="/chat">chat</Link>.
        </p>
      )}
      {entries.length > 0 && (
        <p className="muted small" data-testid="history-count">
          Showing {entries.length} of {count}
        </p>
      )}
      <ul className="history-list">
        {entries.map((entry) => (
          <HistoryItem key={entry.id} entry={entry} />
        ))}
      </ul>
      {hasMore && (
        <button type="button" className="ghost" onClick={() => void load(page + 1)} disabled={loading}>
          Load more
        </button>
      )}
      {loading && (
        <p className="muted small" role="status">
          Loading…
        </p>
      )}
    </div>
  );
}
