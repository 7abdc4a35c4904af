import { z } from "zod";

export const cacheStatusSchema = z.enum(["HIT", "MISS", "BYPASS"]);
export type CacheStatus = z.infer<typeof cacheStatusSchema>;

// Bounds of the ClickHouse column types (workers/clickhouse/migrations): a value outside them would be
// refused or silently wrapped by ClickHouse, so the schema refuses it first.
const uint16 = z.number().int().min(0).max(0xffff);
const uint32 = z.number().int().min(0).max(0xffff_ffff);
/** The largest finite Float32; larger values would become infinity in the column. */
const float32Max = 3.4028234663852886e38;
const float32 = z.number().min(-float32Max).max(float32Max);
const nonNegativeFloat32 = z.number().nonnegative().max(float32Max);
/** DateTime64(3) ends in 2299; `ts` is epoch milliseconds. */
const dateTime64Ms = z.number().int().nonnegative().max(10_413_791_999_999);

/**
 * One request, as it goes to Kafka (topic `tiergate.request-events`, key = tenant) and lands in
 * ClickHouse `events`. `ts` is epoch milliseconds. Empty string means "none" for optional text fields,
 * so that the ClickHouse columns need no Nullable.
 */
export const requestEventSchema = z.object({
  event_id: z.uuid(),
  ts: dateTime64Ms,
  request_id: z.string().min(1),
  tenant: z.string().min(1),
  user_id: z.string(),
  route: z.string(),
  tier: z.string(),
  model: z.string(),
  model_version: z.string(),
  provider: z.string(),
  status: uint16,
  cache: cacheStatusSchema,
  fallback_reason: z.string(),
  /** The router's decision and reasons, compact (`x-tiergate-route`); absent for events not routed by the pool. */
  route_decision: z.string().optional(),
  queue_ms: nonNegativeFloat32,
  ttft_ms: nonNegativeFloat32,
  latency_ms: nonNegativeFloat32,
  prompt_tokens: uint32,
  completion_tokens: uint32,
  // Drift inputs, optional: the classifier's task and confidence for `auto` requests, prompt
  // and answer sizes in characters, the best retrieval relevance of a RAG answer, and an 8-d projection
  // of the prompt embedding for a sample of requests.
  task: z.string().max(64).optional(),
  confidence: z.number().min(0).max(1).optional(),
  prompt_chars: uint32.optional(),
  answer_chars: uint32.optional(),
  relevance: z.number().min(0).max(1).optional(),
  prompt_projection: z.array(float32).max(64).optional(),
  // The difficulty router's prediction for `auto` requests: the task class, the chance each level
  // (small, medium, large) answers well enough, and the tier shift learned from the tenant's feedback.
  route_class: z.string().max(64).optional(),
  route_success: z.record(z.string().max(32), z.number().min(0).max(1)).optional(),
  route_shift: z.number().int().min(-3).max(3).optional(),
  // Guardrails: which ran, what they found as `guardrail:kind:mode` -> count (never the matched
  // text), the request's outcome (pass, redact, block, error), and the contract rule it broke.
  guardrails: z.array(z.string().max(64)).max(32).optional(),
  guardrail_findings: z.record(z.string().max(64), uint32).optional(),
  guardrail_action: z.string().max(16).optional(),
  contract_violation: z.string().max(64).optional(),
  // Spend: the API key (absent without a verified key), the request's cost in USD at the price the
  // registry held for the served model version at `ts`, prompt tokens served from the upstream's
  // cache, and where the token counts came from (`usage` from the upstream, `tokenizer` counted by
  // the pool, `estimate` from lengths).
  key_id: z.string().max(200).optional(),
  cost_usd: z.number().nonnegative().max(1e9).optional(),
  cached_tokens: uint32.optional(),
  usage_source: z.enum(["usage", "tokenizer", "estimate", ""]).optional(),
});
export type RequestEvent = z.infer<typeof requestEventSchema>;

export const topics = {
  requestEvents: "tiergate.request-events",
  feedback: "tiergate.feedback",
  documentChanges: "tiergate.document-changes",
  /** Messages ingest could not store, with the reason (workers/events/dead-letter.ts). */
  deadLetter: "tiergate.dead-letter",
} as const;

/**
 * A user's verdict on one answer, as it goes to Kafka (topic `tiergate.feedback`, key = tenant) and
 * lands in ClickHouse `feedback`, where drift jobs join it to `events` on (tenant, request_id).
 * `rating` is normalised to [-1, 1] (thumbs down/up are -1/1; a 1–5 scale maps linearly); `label` is a
 * short free category ("wrong", "helpful", …) or empty.
 */
export const feedbackEventSchema = z.object({
  feedback_id: z.uuid(),
  ts: dateTime64Ms,
  request_id: z.string().min(1),
  tenant: z.string().min(1),
  user_id: z.string(),
  rating: z.number().min(-1).max(1),
  label: z.string().max(64),
  comment: z.string().max(2000),
});
export type FeedbackEvent = z.infer<typeof feedbackEventSchema>;
