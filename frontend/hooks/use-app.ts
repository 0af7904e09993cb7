"use client";
import { useContext } from "react";
import { AppContext, type AppState } from "@/lib/app-context";

export function useApp(): AppState {
  return useContext(AppContext);
}
