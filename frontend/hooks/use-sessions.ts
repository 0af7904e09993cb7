"use client";
/** The caller's chat sessions: list (newest first, paginated), rename, delete. */
import { useCallback, useEffect, useState } from "react";
import { api } from "@/lib/api";
import type { Session } from "@/lib/api/schemas";

export function useSessions() {
  const [sessions, setSessions] = useState<Session[]>([]);
  const [pages, setPages] = useState(1);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async (upTo: number) => {
    setLoading(true);
    try {
      const all: Session[] = [];
      let more = false;
      for (let page = 1; page <= upTo; page++) {
        const result = await api.sessions(page);
        all.push(...result.results);
        more = result.next !== null;
        if (!more) break;
      }
      setSessions(all);
      setHasMore(more);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load(pages);
  }, [load, pages]);

  const reload = useCallback(() => load(pages), [load, pages]);
  const loadMore = useCallback(() => setPages((n) => n + 1), []);

  const add = useCallback((session: Session) => {
    setSessions((list) => [session, ...list.filter((s) => s.id !== session.id)]);
  }, []);

  const rename = useCallback(async (id: string, title: string) => {
    const updated = await api.renameSession(id, title);
    setSessions((list) => list.map((s) => (s.id === id ? updated : s)));
  }, []);

  const remove = useCallback(async (id: string) => {
    await api.deleteSession(id);
    setSessions((list) => list.filter((s) => s.id !== id));
  }, []);

  return { sessions, hasMore, loading, error, reload, loadMore, add, rename, remove };
}
