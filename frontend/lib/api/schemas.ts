/** One zod schema per backend response the UI reads (unknown extra fields are dropped). */
import { z } from "zod";

export const page = <T extends z.ZodTypeAny>(item: T) =>
  z.object({
    count: z.number(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(item),
  });

// GET /api/config/
export const configSchema = z.object({
  default_model: z.string(),
  offline: z.boolean(),
  posthog: z.object({ key: z.string(), host: z.string().nullable().optional() }).nullable(),
  billing_enabled: z.boolean().optional().default(false),
});
export type PublicConfig = z.infer<typeof configSchema>;

// POST /api/clients/
export const clientSchema = z.object({ client_id: z.string(), plan: z.string() });

// GET /api/clients/me/
export const meSchema = z.object({
  client_id: z.string(),
  plan: z.string(),
  via: z.string(),
  api_key_id: z.union([z.string(), z.number()]).nullable().optional(),
});
export type Me = z.infer<typeof meSchema>;

// GET /api/models/
export const modelSchema = z.object({
  id: z.string(),
  offline: z.boolean(),
  provider: z.string().optional(),
  context_length: z.number().nullable().optional(),
  input_per_million_usd: z.string().nullable().optional(),
  output_per_million_usd: z.string().nullable().optional(),
});
export type Model = z.infer<typeof modelSchema>;
export const modelsSchema = z.object({ default: z.string(), results: z.array(modelSchema) });
export type Models = z.infer<typeof modelsSchema>;

// /api/chat/sessions/
export const sessionSchema = z.object({
  id: z.string(),
  title: z.string(),
  model: z.string(),
  created_at: z.string(),
});
export type Session = z.infer<typeof sessionSchema>;
export const sessionPageSchema = page(sessionSchema);
export type SessionPage = z.infer<typeof sessionPageSchema>;

export const usageSchema = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cost_usd: z.string(),
});
export type Usage = z.infer<typeof usageSchema>;

export const errorInfoSchema = z.object({ code: z.string(), message: z.string() });

/** A `tool.completed` / `tool.failed` event's data as the transcript stores it. */
export const toolResultSchema = z.object({
  call_id: z.string(),
  name: z.string(),
  output: z.unknown().optional(),
  error: errorInfoSchema.nullable().optional(),
  duration_ms: z.number().optional(),
  // What the call was asked; absent on answers stored before it was recorded.
  args: z.record(z.string(), z.unknown()).nullable().optional(),
});

export const transcriptMessageSchema = z.object({
  id: z.string(),
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  tool_results: z.array(toolResultSchema),
  /** An answer cut short by Stop: `content` is what streamed until then. */
  stopped: z.boolean().optional(),
  run_id: z.string().nullable(),
  parent_id: z.string().nullable().optional(),
  /** The versions in this message's place (edits of a question, regenerated answers). */
  siblings: z.object({ index: z.number(), count: z.number(), ids: z.array(z.string()) }).optional(),
  created_at: z.string(),
});
export type TranscriptMessage = z.infer<typeof transcriptMessageSchema>;

export const runSchema = z.object({
  id: z.string(),
  kind: z.string().optional(),
  status: z.string(),
  model: z.string(),
  usage: usageSchema.nullable(),
  error: errorInfoSchema.nullable(),
});
export type Run = z.infer<typeof runSchema>;

export const transcriptSchema = sessionSchema.extend({
  messages: z.array(transcriptMessageSchema),
  runs: z.array(runSchema),
  totals: usageSchema.optional(),
});
export type Transcript = z.infer<typeof transcriptSchema>;

export const runStatusSchema = runSchema.extend({ result: z.unknown().optional() });

// /api/factoids/
export const factoidSchema = z.object({
  uuid: z.string(),
  subject: z.string(),
  text: z.string(),
  model: z.string(),
  source: z.string(),
  created_at: z.string(),
  up: z.number(),
  down: z.number(),
  score: z.number(),
  my_vote: z.enum(["up", "down"]).nullable(),
});
export type Factoid = z.infer<typeof factoidSchema>;
export const factoidPageSchema = page(factoidSchema);

export const factoidStatusSchema = z.enum(["pending", "running", "succeeded", "failed"]);
export type FactoidStatus = z.infer<typeof factoidStatusSchema>;

export const factoidGenerateSchema = z.object({
  request_id: z.string(),
  status: factoidStatusSchema,
  subject: z.string(),
  stream_url: z.string(),
});
export type FactoidGenerate = z.infer<typeof factoidGenerateSchema>;

export const factoidRequestSchema = z.object({
  request_id: z.string(),
  status: factoidStatusSchema,
  subject: z.string().nullable(),
  model: z.string(),
  factoid: factoidSchema.nullable(),
  cost_usd: z.string(),
  error: errorInfoSchema.nullable(),
  stream_url: z.string(),
});
export type FactoidRequest = z.infer<typeof factoidRequestSchema>;

export const feedbackSchema = z.object({ id: z.number(), text: z.string() });

// /api/channels/ — the channel workspace: each channel own or competitor, one own
// channel primary; `name` is the display name, else the title (GET, PATCH /api/channels/{id}/).
export const channelRoleSchema = z.enum(["own", "competitor"]);
export type ChannelRole = z.infer<typeof channelRoleSchema>;
export const channelSchema = z.object({
  id: z.string(),
  external_id: z.string().optional(),
  title: z.string(),
  display_name: z.string().nullable(),
  name: z.string(),
  handle: z.string().nullable(),
  role: channelRoleSchema,
  primary: z.boolean(),
  source: z.string().optional(),
  video_count: z.number(),
  fetched_at: z.string().nullable(),
});
export type Channel = z.infer<typeof channelSchema>;
/** PATCH /api/channels/{id}/ (`primary: false` is refused: make another one primary). */
export type ChannelChange = { role?: ChannelRole; primary?: true; display_name?: string | null };
export const channelPageSchema = page(channelSchema);

export const channelAddSchema = z.object({
  run_id: z.string(),
  status: z.string(),
  stream_url: z.string(),
});
export type ChannelAdd = z.infer<typeof channelAddSchema>;

export const importSchema = z.object({
  channels: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      role: channelRoleSchema.optional(),
      primary: z.boolean().optional(),
      status: z.string(),
      imported_rows: z.number(),
      video_count: z.number(),
    }),
  ),
  rows_read: z.number(),
  imported_rows: z.number(),
  rejected_rows: z.number(),
  rejected: z.array(
    z.object({
      row_number: z.number(),
      video_id: z.string().nullable().optional(),
      field: z.string(),
      reason: z.string(),
    }),
  ),
});
export type ImportResult = z.infer<typeof importSchema>;

export const videoSchema = z.object({
  video_id: z.string(),
  title: z.string(),
  published_at: z.string(),
  duration_seconds: z.number().nullable(),
  views: z.number(),
  likes: z.number(),
  comments: z.number(),
});
export type Video = z.infer<typeof videoSchema>;
export const videoPageSchema = page(videoSchema);

export const outlierVideoSchema = z.object({
  video_id: z.string(),
  title: z.string(),
  group: z.string(),
  published_at: z.string(),
  views: z.number(),
  views_per_day: z.number(),
  engagement_rate: z.number(),
  smart_score: z.number(),
  views_to_median: z.number().nullable(),
  flag: z.string(),
});
export type OutlierVideo = z.infer<typeof outlierVideoSchema>;

export const outliersSchema = z.object({
  channel_id: z.string(),
  channel_title: z.string(),
  as_of: z.string(),
  source: z.string(),
  method: z.string(),
  videos_scored: z.number(),
  videos_listed: z.number(),
  listing: z.string(),
  median_views_all: z.number().nullable(),
  groups: z.record(
    z.string(),
    z.object({
      group: z.string(),
      count: z.number(),
      median_views: z.number().nullable(),
      high_count: z.number(),
      low_count: z.number(),
      note: z.string(),
    }),
  ),
  videos: z.array(outlierVideoSchema),
});
export type Outliers = z.infer<typeof outliersSchema>;

export const uploadStreakSchema = z.object({
  as_of: z.string(),
  method: z.string(),
  upload_count: z.number(),
  score: z.number(),
  components: z.record(z.string(), z.number()),
  median_gap_days: z.number().nullable(),
  days_since_last_upload: z.number().nullable(),
  average_days_between_uploads: z.number().nullable(),
  current_weekly_streak: z.number(),
  longest_weekly_streak: z.number(),
  uploads_per_week: z.array(z.object({ week_start: z.string(), count: z.number() })),
  shorts_count: z.number(),
  long_form_count: z.number(),
  source: z.string(),
  last_upload_at: z.string().nullable(),
});
export type UploadStreak = z.infer<typeof uploadStreakSchema>;

export const anySchema = z.unknown();
export const emptySchema = z.null();

// --- Accounts (/api/accounts/) ---------------------------------------------------------

const usdString = z.string();

/**
 * The guard's budgets and rate limits in force for the account (GET /api/accounts/me/):
 * `plan` is the plan whose limits apply; `until_email_verified` says they are an anonymous
 * visitor's because the email is not verified yet (budget farming, issue 15).
 */
export const accountLimitsSchema = z.object({
  plan: z.string(),
  until_email_verified: z.boolean().optional(),
  daily_usd: usdString.nullable(),
  max_call_usd: usdString.nullable(),
  requests_per_minute: z.number().nullable(),
  max_concurrent: z.number().nullable(),
  with_credits: z
    .object({ daily_usd: usdString.nullable(), max_call_usd: usdString.nullable() })
    .nullable(),
});
export type AccountLimits = z.infer<typeof accountLimitsSchema>;

// GET /api/accounts/me/ (also `account` in register/login answers)
export const accountSchema = z.object({
  id: z.string(),
  email: z.string(),
  plan: z.string(),
  email_verified: z.boolean(),
  client_id: z.string(),
  credits_usd: usdString,
  limits: accountLimitsSchema,
  created_at: z.string(),
});
export type Account = z.infer<typeof accountSchema>;

/**
 * POST /api/accounts/register/ and /login/. The answer also carries JWTs (`tokens`); the
 * browser app signs in with Django's session cookie instead, so they are dropped here
 * and never kept in script-readable memory.
 */
export const signedInSchema = z.object({ account: accountSchema });

// /api/accounts/api-keys/
export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;
export const apiKeyListSchema = z.array(apiKeySchema);
/** The create answer: the only time the `isk_` key itself is shown. */
export const apiKeyCreatedSchema = apiKeySchema.extend({ key: z.string() });
export type ApiKeyCreated = z.infer<typeof apiKeyCreatedSchema>;

// --- Payments (/api/payments/) ---------------------------------------------------------

// GET /api/payments/prices/
export const priceSchema = z.object({
  price_key: z.string(),
  mode: z.enum(["payment", "subscription"]),
  plan: z.string().nullable(),
  credits_usd: usdString.nullable(),
  // Stripe's amount in minor units (1200 = 12.00); null when the server could not read it.
  amount: z
    .object({ unit_amount: z.number().nullable(), currency: z.string().nullable(), interval: z.string().nullable() })
    .nullable()
    .optional(),
});
export type Price = z.infer<typeof priceSchema>;
export const pricesSchema = z.object({ enabled: z.boolean(), prices: z.array(priceSchema) });
export type Prices = z.infer<typeof pricesSchema>;

// POST /api/payments/session/
export const checkoutSessionSchema = z.object({
  id: z.string(),
  session_id: z.string().nullable(),
  url: z.string(),
  price_key: z.string(),
  mode: z.string(),
  status: z.string(),
  payment_status: z.string(),
  fulfilled: z.boolean(),
  // A delayed payment method (bank debit) failed: nothing was charged or credited.
  failed: z.boolean().optional(),
});
export type CheckoutSession = z.infer<typeof checkoutSessionSchema>;

// GET /api/payments/session/{session_id}/ (the success page's re-sync)
export const checkoutSyncSchema = checkoutSessionSchema.extend({
  plan: z.string(),
  credits_usd: usdString,
});
export type CheckoutSync = z.infer<typeof checkoutSyncSchema>;

// POST /api/payments/portal/
export const portalSchema = z.object({ url: z.string() });

// GET /api/payments/credits/
export const creditEntrySchema = z.object({
  kind: z.string(),
  amount_usd: usdString,
  note: z.string(),
  created_at: z.string(),
});
export type CreditEntry = z.infer<typeof creditEntrySchema>;
export const creditPageSchema = page(creditEntrySchema).extend({ balance_usd: usdString });
export type CreditPage = z.infer<typeof creditPageSchema>;

// --- Video search and history (issue 14 parts 5-6) -------------------------------------

// One video of GET /api/videos/search/ (and of the video_search tool's output, which adds
// `url`). A count is null where the source hides it.
export const videoResultSchema = z.object({
  video_id: z.string(),
  title: z.string(),
  channel_id: z.string(),
  channel_title: z.string(),
  views: z.number().nullable(),
  likes: z.number().nullable(),
  comments: z.number().nullable(),
  published_at: z.string().nullable(),
  duration_seconds: z.number().nullable(),
  thumbnail_url: z.string().nullable().optional(),
  url: z.string().optional(),
});
export type VideoResult = z.infer<typeof videoResultSchema>;

export const videoSearchScopeSchema = z.enum(["youtube", "workspace"]);
export type VideoSearchScope = z.infer<typeof videoSearchScopeSchema>;

// GET /api/videos/search/?q=&scope=
export const videoSearchSchema = z.object({
  source: z.string(),
  scope: videoSearchScopeSchema.optional().default("youtube"),
  query: z.string().optional(),
  results: z.array(videoResultSchema),
});
export type VideoSearch = z.infer<typeof videoSearchSchema>;

// The video_search tool's output (chat cards, history).
export const videoSearchOutputSchema = z.object({
  source: z.string(),
  scope: videoSearchScopeSchema,
  requested_scope: z.string().optional(),
  scope_reason: z.string().optional(),
  query: z.string(),
  result_count: z.number().optional(),
  results: z.array(videoResultSchema),
  note: z.string().optional(),
});
export type VideoSearchOutput = z.infer<typeof videoSearchOutputSchema>;

// GET /api/history/ and /api/history/{id}/
export const historySourceSchema = z.enum(["chat", "api"]);
export const historyEntrySchema = z.object({
  id: z.number(),
  tool: z.string(),
  source: historySourceSchema,
  input: z.unknown(),
  result: z.unknown(),
  run_id: z.string().nullable().optional(),
  session_id: z.string().nullable().optional(),
  call_id: z.string().optional(),
  created_at: z.string(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
export const historyPageSchema = page(historyEntrySchema);
export type HistoryPage = z.infer<typeof historyPageSchema>;

// --- Competitor gaps (the competitor_gap tool: chat card, and
// GET /api/channels/{id}/competitor-gap/ for the Channels page panel) ---
export const gapProofVideoSchema = z.object({
  video_id: z.string(),
  title: z.string(),
  channel_id: z.string(),
  channel_title: z.string(),
  published_at: z.string(),
  age_days: z.number(),
  views: z.number(),
  channel_median_views: z.number(),
  multiple: z.number(),
  url: z.string(),
});
export type GapProofVideo = z.infer<typeof gapProofVideoSchema>;
export const gapSchema = z.object({
  topic: z.string(),
  kind: z.string(),
  score: z.number(),
  score_components: z.object({
    channels: z.number(),
    multiple: z.number(),
    hit_rate: z.number(),
    recency: z.number(),
  }),
  proof_count: z.number(),
  proof_channels: z.number(),
  proof_channel_titles: z.array(z.string()),
  matching_videos: z.number(),
  hit_rate: z.number(),
  geometric_mean_multiple: z.number(),
  also_terms: z.array(z.string()),
  sample: z.string(),
  proof_video_ids: z.array(z.string()),
  proof_videos: z.array(gapProofVideoSchema),
});
export type Gap = z.infer<typeof gapSchema>;
export const gapCompetitorSchema = z.object({
  channel_id: z.string(),
  channel_title: z.string(),
  source: z.string(),
  as_of: z.string(),
  videos: z.number(),
  mature_videos: z.number(),
  median_views: z.number().nullable(),
  outliers: z.number(),
  status: z.enum(["analysed", "skipped"]),
  skip_reason: z.string().nullable(),
});
export type GapCompetitor = z.infer<typeof gapCompetitorSchema>;
export const competitorGapSchema = z.object({
  channel_id: z.string(),
  channel_title: z.string(),
  channel_role: channelRoleSchema,
  competitors_basis: z.string(),
  min_multiple: z.number(),
  min_age_days: z.number(),
  min_proof: z.number(),
  min_channel_videos: z.number(),
  outlier_rule: z.string(),
  topic_method: z.string(),
  score_formula: z.string(),
  own: z.object({
    channel_id: z.string(),
    channel_title: z.string(),
    source: z.string(),
    videos: z.number(),
    terms: z.number(),
  }),
  competitors: z.array(gapCompetitorSchema),
  channels_analysed: z.number(),
  channels_skipped: z.number(),
  mature_videos: z.number(),
  outlier_videos: z.number(),
  base_outlier_rate: z.number().nullable(),
  candidate_topics: z.number(),
  covered_by_own: z.number(),
  gaps_found: z.number(),
  gaps_listed: z.number(),
  gaps: z.array(gapSchema),
  reason: z.string().nullable(),
});
export type CompetitorGap = z.infer<typeof competitorGapSchema>;

// --- Keyword research and hashtags (the keyword_research and hashtags tools' outputs:
// chat cards, POST /api/tools/keywords/ and /api/tools/hashtags/, history) -------------

/** The videos and channels a figure was computed on (own/competitor when known). */
export const figureSampleSchema = z.object({
  videos: z.number(),
  channels: z.number(),
  own_channels: z.number().nullable().optional(),
  competitor_channels: z.number().nullable().optional(),
});
export type FigureSample = z.infer<typeof figureSampleSchema>;

/** One measured figure: null with the reason when its sample is too small. */
export const figureSchema = z.object({
  value: z.number().nullable(),
  source: z.string().optional().default(""),
  sample: figureSampleSchema.nullable().optional(),
  reason: z.string().nullable().optional(),
});
export type Figure = z.infer<typeof figureSchema>;

export const keywordYouTubeSchema = z.object({
  status: z.enum(["sampled", "not sampled"]),
  reason: z.string().nullable().optional(),
  observed_at: z.string().nullable().optional(),
  from_cache: z.boolean().optional().default(false),
  result_count_estimate: figureSchema.nullable().optional(),
  search_competition: figureSchema.nullable().optional(),
  search_demand: figureSchema.nullable().optional(),
});
export type KeywordYouTube = z.infer<typeof keywordYouTubeSchema>;

export const keywordRowSchema = z
  .object({
    keyword: z.string(),
    proposed_by: z.string().optional(),
    matching_videos: z.number().optional(),
    demand_proxy: figureSchema.optional(),
    // Results stored before the rename called the demand proxy `search_volume`.
    search_volume: figureSchema.optional(),
    competition: figureSchema.optional(),
    relevance: figureSchema.optional(),
    youtube: keywordYouTubeSchema.optional(),
    kind: z.string().optional(),
    co_occurrences: z.number().optional(),
  })
  .transform(({ search_volume, ...row }) => ({ ...row, demand_proxy: row.demand_proxy ?? search_volume }));
export type KeywordRow = z.infer<typeof keywordRowSchema>;

export const keywordOutputSchema = z.object({
  topic: z.string().optional(),
  source: z.string().optional(),
  videos_analyzed: z.number().optional(),
  corpus: figureSampleSchema.optional(),
  corpus_note: z.string().nullable().optional(),
  methods: z.record(z.string(), z.string()).optional(),
  primary: z.array(keywordRowSchema).default([]),
  long_tail: z.array(keywordRowSchema).default([]),
  trending: z.array(keywordRowSchema).default([]),
  related_topics: z.array(keywordRowSchema).default([]),
  youtube: z
    .object({
      available: z.boolean(),
      note: z.string().nullable().optional(),
      sampled: z.array(z.string()).default([]),
      from_cache: z.number().optional().default(0),
      units_spent: z.number().optional().default(0),
      sample_size: z.number().optional(),
      max_results: z.number().optional(),
    })
    .optional(),
  model_candidates_note: z.string().nullable().optional(),
});
export type KeywordResearch = z.infer<typeof keywordOutputSchema>;

export const hashtagRowSchema = z.object({
  tag: z.string(),
  suggested: z.boolean().optional().default(false),
  found_in: z.string().optional(),
  usage_count: z.number().nullable().optional(),
  channels_using: z.number().nullable().optional(),
  average_views: z.number().nullable().optional(),
  average_engagement_rate: z.number().nullable().optional(),
  sample: figureSampleSchema.nullable().optional(),
  reason: z.string().nullable().optional(),
  text_occurrences: z.number().nullable().optional(),
  source: z.string().nullable().optional(),
});
export type HashtagRow = z.infer<typeof hashtagRowSchema>;

export const hashtagOutputSchema = z.object({
  topic: z.string().optional(),
  platform: z.string().optional(),
  videos_analyzed: z.number().optional(),
  source: z.string().optional(),
  corpus: figureSampleSchema.optional(),
  corpus_note: z.string().nullable().optional(),
  methods: z.record(z.string(), z.string()).optional(),
  hashtags: z.array(hashtagRowSchema).default([]),
  suggestions_note: z.string().nullable().optional(),
});
export type Hashtags = z.infer<typeof hashtagOutputSchema>;

/** A kept thumbnail (GET/POST /api/thumbnails/): `url` is signed and expires; read it fresh. */
export const thumbnailSchema = z.object({
  id: z.string(),
  prompt: z.string(),
  title: z.string(),
  provider: z.string(),
  model: z.string(),
  offline: z.boolean(),
  width: z.number(),
  height: z.number(),
  size_bytes: z.number(),
  cost_usd: z.string(),
  attempts: z.array(
    z.object({ provider: z.string(), ok: z.boolean(), error: z.string().nullable(), duration_ms: z.number() }),
  ),
  created_at: z.string(),
  url: z.string(),
});
export type Thumbnail = z.infer<typeof thumbnailSchema>;
export const thumbnailPageSchema = page(thumbnailSchema);
export const thumbnailsMadeSchema = z.object({ results: z.array(thumbnailSchema) });

/** A vision model's tags and critique of an uploaded thumbnail (its opinion, not a measurement). */
export const thumbnailCritiqueSchema = z.object({
  tags: z.array(z.string()),
  text_legibility: z.string(),
  faces: z.string(),
  contrast: z.string(),
  clutter: z.string(),
  summary: z.string(),
});
export type ThumbnailCritique = z.infer<typeof thumbnailCritiqueSchema>;

/**
 * POST /api/thumbnails/analyse/: what was measured from the pixels, and a vision model's
 * critique when one looked (`model`; null with the offline model). A refusal or a failed
 * model call leaves `critique` null and says why in `note` and `model_error`.
 */
export const thumbnailAnalysisSchema = z.object({
  measured: z.object({
    width: z.number(),
    height: z.number(),
    aspect_ratio: z.number(),
    is_16_9: z.boolean(),
    file_size_bytes: z.number(),
    format: z.string(),
    brightness: z.number(),
    contrast: z.number(),
    detail_area_share: z.number(),
    dominant_colours: z.array(z.object({ hex: z.string(), share: z.number() })),
  }),
  critique: thumbnailCritiqueSchema.nullable(),
  model: z.string().nullable().optional(),
  note: z.string(),
  model_error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type ThumbnailAnalysis = z.infer<typeof thumbnailAnalysisSchema>;

/** POST /api/channels/{id}/thumbnail-comparison/: an upload beside the channel's outliers. */
const comparedFeatureSchema = z.object({
  yours: z.number(),
  median: z.number(),
  low: z.number(),
  high: z.number(),
  higher_than: z.number(),
});
export const thumbnailComparisonSchema = z.object({
  channel_id: z.string(),
  channel_title: z.string(),
  outliers: z.array(
    z.object({
      video_id: z.string(),
      title: z.string(),
      views: z.number(),
      smart_score: z.number(),
      thumbnail_url: z.string(),
    }),
  ),
  skipped: z.array(z.object({ video_id: z.string(), reason: z.string() })),
  comparison: z.object({
    compared_with: z.number(),
    features: z.record(z.string(), comparedFeatureSchema),
    summary: z.array(z.string()),
  }),
  note: z.string(),
});
export type ThumbnailComparison = z.infer<typeof thumbnailComparisonSchema>;
