import { createContext } from "react";
import type { Me, PublicConfig } from "@/lib/api/schemas";

export type AppState = {
  /** Identity is settled (a client token cookie exists) and the config is loaded. */
  ready: boolean;
  me: Me | null;
  config: PublicConfig | null;
  /** Why the app could not start (e.g. the API is down). */
  error: unknown;
  retry: () => void;
};

export const AppContext = createContext<AppState>({
  ready: false,
  me: null,
  config: null,
  error: null,
  retry: () => {},
});
