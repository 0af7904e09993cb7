/** What the UI says about an error: a pure mapping from backend error codes to words. */
import { ApiError, type ErrorCode } from "@/lib/api/errors";

/** Where a person raises their limits: sign up, API keys, plans and credits. */
export const ACCOUNT_HREF = "/account";

export type ErrorView = {
  code: ErrorCode;
  title: string;
  message: string;
  /** What the person can do about it. */
  action?: string;
  /** A link that helps (402: raise the limit). */
  link?: { href: string; label: string };
  retryAfterS?: number;
};

const BUCKET_NAMES: Record<string, string> = {
  global: "the service's daily AI budget limit",
  client: "your daily AI budget limit",
  ip: "your network's daily AI budget limit",
  api_key: "this API key's daily AI budget limit",
  session: "this chat session's AI budget limit",
  max_call: "the cost limit for a single request",
  model: "the models your plan allows",
  rate: "the per-minute request limit",
  concurrency: "the limit on simultaneous runs",
};

export function formatWait(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.ceil(seconds))} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const rest = minutes % 60;
  return rest ? `${Math.floor(minutes / 60)} h ${rest} min` : `${Math.floor(minutes / 60)} h`;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value ? value : null;
}

/** The AI SDK hands over a plain Error whose message is a JSON error body or "CODE: text". */
function fromEmbedded(message: string): ApiError {
  try {
    const body = JSON.parse(message) as unknown;
    if (body && typeof body === "object" && "error" in body) return ApiError.fromBody(0, body);
  } catch {
    /* not JSON */
  }
  if (!/^[A-Z_]+:/.test(message) && /failed to fetch|network|load failed/i.test(message)) {
    return new ApiError({ code: "NETWORK_ERROR", status: 0, message });
  }
  return ApiError.fromStreamText(message);
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof Error) return fromEmbedded(error.message);
  return new ApiError({ code: "UNKNOWN", status: 0, message: String(error) });
}

/** How a person raises a per-person limit (402), given billing and whether they are signed in. */
function raiseLimit(opts: DescribeOptions): { action: string; label: string } {
  if (opts.signedIn === false) {
    // A visitor: an account is the first step (its own, larger budget; the chats come along).
    return opts.billingEnabled
      ? {
          action: "Create a free account for a larger daily budget, then upgrade your plan or buy credits.",
          label: "Sign up or upgrade",
        }
      : {
          action: "Create a free account for a larger daily budget, or use an API key (Authorization: Bearer isk_…).",
          label: "Sign up for a larger budget",
        };
  }
  return opts.billingEnabled
    ? { action: "Upgrade your plan to raise the limit.", label: "Upgrade your plan" }
    : {
        action: "To raise the limit, use an API key with a larger plan (Authorization: Bearer isk_…).",
        label: "Use an API key or upgrade",
      };
}

export type DescribeOptions = {
  /** Checkout exists: the 402 action says "upgrade". */
  billingEnabled?: boolean;
  /** false for an anonymous visitor: the 402 action offers an account first. */
  signedIn?: boolean;
};

/** Turns any thrown value into what the UI shows. */
export function describeError(error: unknown, opts: DescribeOptions = {}): ErrorView {
  const api = toApiError(error);
  switch (api.code) {
    case "BUDGET_EXCEEDED": {
      const bucket = str(api.details.bucket) ?? "";
      const limitUsd = str(api.details.limit_usd);
      const what = BUCKET_NAMES[bucket] ?? "an AI budget limit";
      const amount = limitUsd ? ` of $${Number(limitUsd).toFixed(2)}` : "";
      const window = str(api.details.window);
      const raise = raiseLimit(opts);
      return {
        code: api.code,
        title: "Budget limit reached",
        message: `You have reached ${what}${amount}${window ? ` (UTC day ${window})` : ""}. ${api.message}`,
        action: bucket === "global" ? "The service's budget resets at midnight UTC." : raise.action,
        link: bucket === "global" ? undefined : { href: ACCOUNT_HREF, label: raise.label },
      };
    }
    case "RATE_LIMITED": {
      const wait = api.retryAfterS ?? 1;
      return {
        code: api.code,
        title: "Too many requests",
        message: api.message,
        action: `Try again in ${formatWait(wait)}.`,
        retryAfterS: wait,
      };
    }
    case "CONTENT_REJECTED": {
      const category = str(api.details.category);
      return {
        code: api.code,
        title: "Not sent",
        message: `${api.message}${category ? ` (${category.replace(/[/_-]/g, " ")})` : ""}`,
        action: "Rephrase it and try again.",
      };
    }
    case "MODERATION_UNAVAILABLE":
    case "AI_SERVICE_UNAVAILABLE":
    case "UPSTREAM_UNAVAILABLE":
      return {
        code: api.code,
        title: "Service unavailable",
        message: `The service is unavailable right now. ${api.message}`,
        action: "Please try again in a little while.",
      };
    case "NETWORK_ERROR":
      return {
        code: api.code,
        title: "No connection",
        message: "The server could not be reached.",
        action: "Check your connection and try again.",
      };
    case "RUN_TIMEOUT":
      return {
        code: api.code,
        title: "Took too long",
        message: api.message,
        action: "Try a smaller request.",
      };
    case "CANCELLED":
      return { code: api.code, title: "Stopped", message: api.message };
    case "CONFLICT":
      return {
        code: api.code,
        title: "Busy",
        message: api.message,
        action: "Wait for the current answer or stop it.",
      };
    case "VALIDATION_ERROR":
      return { code: api.code, title: "Check your input", message: api.message };
    case "NOT_FOUND":
      return { code: api.code, title: "Not found", message: api.message };
    case "UNAUTHORIZED":
    case "FORBIDDEN":
      return {
        code: api.code,
        title: "Not allowed",
        message: api.message,
        action: "Reload the page to start a new visitor session.",
      };
    default:
      return { code: api.code, title: "Something went wrong", message: api.message };
  }
}
