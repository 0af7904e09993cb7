import { createContext, type Dispatch, type SetStateAction } from "react";
import type { Account, Me, PublicConfig } from "@/lib/api/schemas";

export type AppState = {
  /** Identity is settled (a client token cookie exists) and the config is loaded. */
  ready: boolean;
  me: Me | null;
  config: PublicConfig | null;
  /** The signed-in account (GET /api/accounts/me/), or null for an anonymous visitor. */
  account: Account | null;
  /** Why the app could not start (e.g. the API is down). */
  error: unknown;
  retry: () => void;
  /** Asks again who the browser is (after login, logout, deletion) without a reload. */
  refreshIdentity: () => Promise<void>;
  /** Replaces the account shown everywhere (e.g. from a login answer or a re-read). */
  setAccount: Dispatch<SetStateAction<Account | null>>;
};

export const AppContext = createContext<AppState>({
  ready: false,
  me: null,
  config: null,
  account: null,
  error: null,
  retry: () => {},
  refreshIdentity: async () => {},
  setAccount: () => {},
});
