"use client";
/** The models the backend offers (GET /api/models/) and the one this browser picked. */
import { useCallback, useEffect, useState } from "react";
import { api } from "@/lib/api";
import type { Models } from "@/lib/api/schemas";

const STORAGE_KEY = "insightstream.model";
let cached: Promise<Models> | null = null;

function loadModels(): Promise<Models> {
  if (!cached) {
    cached = api.models().catch((error: unknown) => {
      cached = null;
      throw error;
    });
  }
  return cached;
}

export function useModels() {
  const [models, setModels] = useState<Models | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [choice, setChoice] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    loadModels()
      .then((result) => {
        if (cancelled) return;
        setModels(result);
        const stored = window.localStorage.getItem(STORAGE_KEY);
        const known = result.results.some((model) => model.id === stored);
        setChoice(known && stored ? stored : result.default);
      })
      .catch((err: unknown) => {
        if (!cancelled) setError(err);
      });
    return () => {
      cancelled = true;
    };
  }, []);

  const choose = useCallback((id: string) => {
    setChoice(id);
    window.localStorage.setItem(STORAGE_KEY, id);
  }, []);

  return { models, model: choice, choose, error };
}
