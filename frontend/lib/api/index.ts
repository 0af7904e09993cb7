/** The backend's endpoints the UI uses, each validated with its schema. */
import { apiFetch, apiJson } from "./client";
import {
  accountSchema,
  anySchema,
  apiKeyCreatedSchema,
  apiKeyListSchema,
  apiKeySchema,
  checkoutSessionSchema,
  checkoutSyncSchema,
  creditPageSchema,
  portalSchema,
  pricesSchema,
  signedInSchema,
  channelAddSchema,
  channelPageSchema,
  channelSchema,
  clientSchema,
  configSchema,
  emptySchema,
  factoidGenerateSchema,
  factoidPageSchema,
  factoidRequestSchema,
  factoidSchema,
  feedbackSchema,
  importSchema,
  meSchema,
  modelsSchema,
  outliersSchema,
  runStatusSchema,
  sessionPageSchema,
  thumbnailAnalysisSchema,
  thumbnailComparisonSchema,
  thumbnailPageSchema,
  thumbnailSchema,
  thumbnailsMadeSchema,
  sessionSchema,
  transcriptSchema,
  uploadStreakSchema,
  videoPageSchema,
} from "./schemas";
import type { ChannelChange } from "./schemas";

const id = encodeURIComponent;

export type Vote = "up" | "down" | "none";
export type FactoidOrdering = "-created_at" | "-score";
export type Credentials = { email: string; password: string };

/** The account export as a file: its JSON and the name the server suggests. */
export type ExportFile = { blob: Blob; filename: string };

export const api = {
  config: () => apiJson(configSchema, "/api/config/"),
  me: () => apiJson(meSchema, "/api/clients/me/"),
  mintClient: () => apiJson(clientSchema, "/api/clients/", { method: "POST", json: {} }),
  models: () => apiJson(modelsSchema, "/api/models/"),

  sessions: (page = 1) => apiJson(sessionPageSchema, `/api/chat/sessions/?page=${page}`),
  createSession: (model?: string) =>
    apiJson(sessionSchema, "/api/chat/sessions/", { method: "POST", json: model ? { model } : {} }),
  transcript: (sessionId: string) => apiJson(transcriptSchema, `/api/chat/sessions/${id(sessionId)}/`),
  renameSession: (sessionId: string, title: string) =>
    apiJson(sessionSchema, `/api/chat/sessions/${id(sessionId)}/`, {
      method: "PATCH",
      json: { title },
    }),
  deleteSession: (sessionId: string) =>
    apiJson(emptySchema, `/api/chat/sessions/${id(sessionId)}/`, { method: "DELETE" }),
  /** A new version of one of your messages: the conversation forks before it. */
  editMessage: (sessionId: string, editOf: string, content: string) =>
    apiJson(anySchema, `/api/chat/sessions/${id(sessionId)}/messages/`, {
      method: "POST",
      json: { content, edit_of: editOf },
    }),
  /** Show the branch through this version of a message. */
  switchBranch: (sessionId: string, messageId: string) =>
    apiJson(anySchema, `/api/chat/sessions/${id(sessionId)}/branch/`, {
      method: "PUT",
      json: { message_id: messageId },
    }),
  run: (runId: string) => apiJson(runStatusSchema, `/api/runs/${id(runId)}/`),
  /** Answer an approval over REST: how edited arguments are sent (checked like the tool's own). */
  answerApproval: (runId: string, approvalId: string, answer: { approved: boolean; args?: unknown; reason?: string }) =>
    apiJson(anySchema, `/api/runs/${id(runId)}/approvals/${id(approvalId)}/`, {
      method: "POST",
      json: answer,
    }),
  cancelRun: (runId: string) =>
    apiJson(anySchema, `/api/runs/${id(runId)}/cancel/`, { method: "POST", json: {} }),

  thumbnails: (page = 1) => apiJson(thumbnailPageSchema, `/api/thumbnails/?page=${page}`),
  /** One kept thumbnail with a fresh signed URL (a chat card keeps ids, never URLs). */
  thumbnail: (thumbnailId: string) => apiJson(thumbnailSchema, `/api/thumbnails/${id(thumbnailId)}/`),
  makeThumbnails: (body: { prompt: string; title?: string; count?: number; reference?: File | null }) => {
    const { reference, ...fields } = body;
    if (!reference) return apiJson(thumbnailsMadeSchema, "/api/thumbnails/", { method: "POST", json: fields });
    // With a reference image: multipart (the image is checked and re-encoded by the server).
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.append(key, String(value));
    form.append("reference_image", reference);
    return apiJson(thumbnailsMadeSchema, "/api/thumbnails/", { method: "POST", body: form });
  },
  /** An upload's measured features beside the channel's outlier videos' thumbnails. */
  compareThumbnail: (channelId: string, file: File) => {
    const form = new FormData();
    form.append("image", file);
    return apiJson(thumbnailComparisonSchema, `/api/channels/${id(channelId)}/thumbnail-comparison/`, {
      method: "POST",
      body: form,
    });
  },
  analyseThumbnail: (file: File) => {
    const form = new FormData();
    form.append("image", file);
    return apiJson(thumbnailAnalysisSchema, "/api/thumbnails/analyse/", { method: "POST", body: form });
  },
  deleteThumbnail: (thumbnailId: string) =>
    apiJson(emptySchema, `/api/thumbnails/${id(thumbnailId)}/`, { method: "DELETE" }),

  factoids: (opts: { subject?: string; ordering?: FactoidOrdering; page?: number }) => {
    const query = new URLSearchParams();
    if (opts.subject) query.set("subject", opts.subject);
    if (opts.ordering) query.set("ordering", opts.ordering);
    if (opts.page && opts.page > 1) query.set("page", String(opts.page));
    return apiJson(factoidPageSchema, `/api/factoids/?${query}`);
  },
  vote: (uuid: string, vote: Vote) =>
    apiJson(factoidSchema, `/api/factoids/${id(uuid)}/vote/`, { method: "POST", json: { vote } }),
  feedback: (uuid: string, text: string) =>
    apiJson(feedbackSchema, `/api/factoids/${id(uuid)}/feedback/`, {
      method: "POST",
      json: { text },
    }),
  generateFactoid: (subject?: string) =>
    apiJson(factoidGenerateSchema, "/api/factoids/generate/", {
      method: "POST",
      json: subject ? { subject } : {},
    }),
  factoidRequest: (requestId: string) =>
    apiJson(factoidRequestSchema, `/api/factoids/requests/${id(requestId)}/`),

  channels: () => apiJson(channelPageSchema, "/api/channels/?page_size=100"),
  updateChannel: (channelId: string, change: ChannelChange) =>
    apiJson(channelSchema, `/api/channels/${id(channelId)}/`, { method: "PATCH", json: change }),
  deleteChannel: (channelId: string) =>
    apiJson(emptySchema, `/api/channels/${id(channelId)}/`, { method: "DELETE" }),
  addChannel: (ref: { handle: string } | { channel_id: string }) =>
    apiJson(channelAddSchema, "/api/channels/", { method: "POST", json: ref }),
  importChannels: (file: File) => {
    const form = new FormData();
    form.append("file", file);
    return apiJson(importSchema, "/api/channels/import/", { method: "POST", body: form });
  },
  videos: (channelId: string, page = 1) =>
    apiJson(
      videoPageSchema,
      `/api/channels/${id(channelId)}/videos/?page_size=500&page=${page}`,
    ),
  // top_n=500: the table lists every scored video (up to 500 besides the flagged ones).
  outliers: (channelId: string) =>
    apiJson(outliersSchema, `/api/channels/${id(channelId)}/outliers/?top_n=500`),
  uploadStreak: (channelId: string) =>
    apiJson(uploadStreakSchema, `/api/channels/${id(channelId)}/upload-streak/`),

  // Accounts. The browser signs in with Django's session cookie (`session: true`); the
  // anonymous client cookie travels along, so the backend attaches that visitor's history.
  register: (body: Credentials) =>
    apiJson(signedInSchema, "/api/accounts/register/", {
      method: "POST",
      json: { ...body, session: true },
    }),
  login: (body: Credentials) =>
    apiJson(signedInSchema, "/api/accounts/login/", {
      method: "POST",
      json: { ...body, session: true },
    }),
  logout: () => apiJson(emptySchema, "/api/accounts/logout/", { method: "POST", json: {} }),
  account: () => apiJson(accountSchema, "/api/accounts/me/"),
  deleteAccount: (password: string) =>
    apiJson(emptySchema, "/api/accounts/me/", { method: "DELETE", json: { password } }),
  exportAccount: async (): Promise<ExportFile> => {
    const response = await apiFetch("/api/accounts/export/");
    return {
      blob: await response.blob(),
      filename: filenameFromDisposition(response.headers.get("Content-Disposition")) ?? "insightstream-account.json",
    };
  },
  verifyEmail: (uid: string, token: string) =>
    apiJson(accountSchema, "/api/accounts/verify-email/", { method: "POST", json: { uid, token } }),
  resendVerification: () =>
    apiJson(emptySchema, "/api/accounts/verify-email/resend/", { method: "POST", json: {} }),
  requestPasswordReset: (email: string) =>
    apiJson(emptySchema, "/api/accounts/password-reset/", { method: "POST", json: { email } }),
  confirmPasswordReset: (body: { uid: string; token: string; password: string }) =>
    apiJson(emptySchema, "/api/accounts/password-reset/confirm/", { method: "POST", json: body }),
  apiKeys: () => apiJson(apiKeyListSchema, "/api/accounts/api-keys/"),
  createApiKey: (name: string) =>
    apiJson(apiKeyCreatedSchema, "/api/accounts/api-keys/", { method: "POST", json: { name } }),
  revokeApiKey: (keyId: string) =>
    apiJson(apiKeySchema, `/api/accounts/api-keys/${id(keyId)}/`, { method: "DELETE" }),

  // Payments (Stripe Checkout; 503 UPSTREAM_UNAVAILABLE when billing is not configured).
  prices: () => apiJson(pricesSchema, "/api/payments/prices/"),
  /** `idempotencyKey`: one per click, so a retried request reuses its Checkout Session. */
  startCheckout: (priceKey: string, idempotencyKey: string) =>
    apiJson(checkoutSessionSchema, "/api/payments/session/", {
      method: "POST",
      headers: { "Idempotency-Key": idempotencyKey },
      json: { price_key: priceKey },
    }),
  checkoutStatus: (sessionId: string) =>
    apiJson(checkoutSyncSchema, `/api/payments/session/${id(sessionId)}/`),
  billingPortal: () => apiJson(portalSchema, "/api/payments/portal/", { method: "POST", json: {} }),
  credits: (page = 1) => apiJson(creditPageSchema, `/api/payments/credits/?page=${page}`),
};

/** `attachment; filename="x.json"` → `x.json` (null when absent). */
export function filenameFromDisposition(header: string | null): string | null {
  if (!header) return null;
  const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ""));
    } catch {
      /* fall through to the plain form */
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(header);
  if (!plain) return null;
  const name = (plain[2] ?? plain[1]).trim();
  return name || null;
}
