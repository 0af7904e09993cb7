/** GET /api/history/: every generated tool result (chat and REST), newest first. */
import { apiJson } from "./client";
import { historyEntrySchema, historyPageSchema, type HistoryEntry, type HistoryPage } from "./schemas";

export const HISTORY_PAGE_SIZE = 20;

export function historyPage(opts: {
  page?: number;
  pageSize?: number;
  tool?: string;
  source?: "chat" | "api";
}): Promise<HistoryPage> {
  const params = new URLSearchParams({ page_size: String(opts.pageSize ?? HISTORY_PAGE_SIZE) });
  if (opts.page && opts.page > 1) params.set("page", String(opts.page));
  if (opts.tool) params.set("tool", opts.tool);
  if (opts.source) params.set("source", opts.source);
  return apiJson(historyPageSchema, `/api/history/?${params}`);
}

export function historyEntry(id: number): Promise<HistoryEntry> {
  return apiJson(historyEntrySchema, `/api/history/${encodeURIComponent(String(id))}/`);
}
