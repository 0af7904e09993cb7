/** Same-origin fetch to the Django API: cookie identity, the anti-forgery headers, typed errors. */
import type { z } from "zod";
import { ApiError } from "./errors";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function cookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/**
 * Headers every state-changing request carries: `X-Requested-With` (the backend refuses
 * cookie-authenticated writes without it) and Django's CSRF token when its cookie is set
 * (the page that serves this app sets it).
 */
export function writeHeaders(): Record<string, string> {
  const headers: Record<string, string> = { "X-Requested-With": "fetch" };
  const csrf = cookie("csrftoken");
  if (csrf) headers["X-CSRFToken"] = csrf;
  return headers;
}

/**
 * Django's page view sets the CSRF cookie that POST /api/chat (a plain Django view) checks.
 * When the app was opened without it (e.g. a cached page), a HEAD of the page sets it.
 */
export async function ensureCsrfCookie(): Promise<void> {
  if (typeof document === "undefined" || cookie("csrftoken")) return;
  try {
    await fetch("/", { method: "HEAD", credentials: "same-origin", cache: "no-store" });
  } catch {
    /* the POST will then explain the failure */
  }
}

/** fetch that throws ApiError for any non-2xx answer (204 passes). */
export async function apiFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const method = (init.method ?? "GET").toUpperCase();
  const headers = new Headers(init.headers);
  if (UNSAFE.has(method)) {
    for (const [key, value] of Object.entries(writeHeaders())) {
      if (!headers.has(key)) headers.set(key, value);
    }
  }
  let response: Response;
  try {
    response = await fetch(input, { ...init, headers, credentials: "same-origin" });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError({ code: "NETWORK_ERROR", status: 0, message: String(cause) });
  }
  if (!response.ok) throw await ApiError.fromResponse(response);
  return response;
}

export async function apiJson<T>(
  schema: z.ZodType<T>,
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<T> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  let body = rest.body;
  if (json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(json);
  }
  const response = await apiFetch(path, { ...rest, headers, body });
  // 204, and 202 answers such as "the email is on its way", have no body.
  const text = response.status === 204 ? "" : await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError({
        code: "UNKNOWN",
        status: response.status,
        message: `Unexpected response from ${path}: not JSON`,
      });
    }
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new ApiError({
      code: "UNKNOWN",
      status: response.status,
      message: `Unexpected response from ${path}: ${parsed.error.message}`,
    });
  }
  return parsed.data;
}
