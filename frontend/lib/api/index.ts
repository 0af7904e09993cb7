/** The backend's endpoints the UI uses, each validated with its schema. */
import { apiJson } from "./client";
import {
  anySchema,
  channelAddSchema,
  channelPageSchema,
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
  sessionSchema,
  transcriptSchema,
  uploadStreakSchema,
  videoPageSchema,
} from "./schemas";

const id = encodeURIComponent;

export type Vote = "up" | "down" | "none";
export type FactoidOrdering = "-created_at" | "-score";

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
  run: (runId: string) => apiJson(runStatusSchema, `/api/runs/${id(runId)}/`),
  cancelRun: (runId: string) =>
    apiJson(anySchema, `/api/runs/${id(runId)}/cancel/`, { method: "POST", json: {} }),

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
};
