/** Typed error codes from the backend's error body `{"error": {code, message, details}}`. */

export const ERROR_CODES = [
  "VALIDATION_ERROR",
  "UNAUTHORIZED",
  "BUDGET_EXCEEDED",
  "FORBIDDEN",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "RATE_LIMITED",
  "INTERNAL_ERROR",
  "UPSTREAM_ERROR",
  "AI_SERVICE_UNAVAILABLE",
  "UPSTREAM_UNAVAILABLE",
  "RUN_TIMEOUT",
  "TOOL_ERROR",
  "CANCELLED",
  "DUPLICATE_FACTOID",
  "CONTENT_REJECTED",
  "MODERATION_UNAVAILABLE",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number] | "NETWORK_ERROR" | "UNKNOWN";

const STATUS_FALLBACK: Record<number, ErrorCode> = {
  400: "VALIDATION_ERROR",
  401: "UNAUTHORIZED",
  402: "BUDGET_EXCEEDED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
  500: "INTERNAL_ERROR",
  502: "UPSTREAM_ERROR",
  503: "AI_SERVICE_UNAVAILABLE",
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;
  readonly retryAfterS: number | null;

  constructor(opts: {
    code: ErrorCode;
    status: number;
    message: string;
    details?: Record<string, unknown>;
    retryAfterS?: number | null;
  }) {
    super(opts.message);
    this.name = "ApiError";
    this.code = opts.code;
    this.status = opts.status;
    this.details = opts.details ?? {};
    this.retryAfterS = opts.retryAfterS ?? null;
  }

  /** Builds the error from a parsed body, the HTTP status and the Retry-After header. */
  static fromBody(status: number, body: unknown, retryAfterHeader?: string | null): ApiError {
    const err =
      body && typeof body === "object" && "error" in body
        ? ((body as { error: unknown }).error as Record<string, unknown> | null)
        : null;
    const rawCode = err?.code;
    const code: ErrorCode = isErrorCode(rawCode) ? rawCode : (STATUS_FALLBACK[status] ?? "UNKNOWN");
    const details =
      err?.details && typeof err.details === "object" ? (err.details as Record<string, unknown>) : {};
    const message =
      typeof err?.message === "string" && err.message ? err.message : `Request failed (${status}).`;
    let retryAfterS: number | null = null;
    const header = retryAfterHeader ? Number(retryAfterHeader) : NaN;
    if (Number.isFinite(header)) retryAfterS = header;
    else if (typeof details.retry_after_s === "number") retryAfterS = details.retry_after_s;
    return new ApiError({ code, status, message, details, retryAfterS });
  }

  static async fromResponse(response: Response): Promise<ApiError> {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return ApiError.fromBody(response.status, body, response.headers.get("Retry-After"));
  }

  /** A stream `error` part carries "CODE: message". */
  static fromStreamText(text: string): ApiError {
    const match = /^([A-Z_]+):\s*(.*)$/s.exec(text);
    if (match && isErrorCode(match[1])) {
      return new ApiError({ code: match[1], status: 0, message: match[2] || text });
    }
    return new ApiError({ code: "UNKNOWN", status: 0, message: text });
  }
}
