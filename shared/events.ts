import { z } from "zod";

export const cacheStatusSchema = z.enum(["HIT", "MISS", "BYPASS"]);
export type CacheStatus = z.infer<typeof cacheStatusSchema>;

/**
 * One request, as it goes to Kafka (topic `tiergate.request-events`, key = tenant) and lands in
 * ClickHouse `events`. `ts` is epoch milliseconds. Empty string means "none" for optional text fields,
 * so that the ClickHouse columns need no Nullable.
 */
export const requestEventSchema = z.object({
  event_id: z.uuid(),
  ts: z.number().int().nonnegative(),
  request_id: z.string().min(1),
  tenant: z.string().min(1),
  user_id: z.string(),
  route: z.string(),
  tier: z.string(),
  model: z.string(),
  model_version: z.string(),
  provider: z.string(),
  status: z.number().int(),
  cache: cacheStatusSchema,
  fallback_reason: z.string(),
  /** The router's decision and reasons, compact (`x-tiergate-route`); absent for events not routed by the pool. */
  route_decision: z.string().optional(),
  queue_ms: z.number().nonnegative(),
  ttft_ms: z.number().nonnegative(),
  latency_ms: z.number().nonnegative(),
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  // Drift inputs, optional: the classifier's task and confidence for `auto` requests, prompt
  // and answer sizes in characters, the best retrieval relevance of a RAG answer, and an 8-d projection
  // of the prompt embedding for a sample of requests.
  task: z.string().max(64).optional(),
  confidence: z.number().min(0).max(1).optional(),
  prompt_chars: z.number().int().nonnegative().optional(),
  answer_chars: z.number().int().nonnegative().optional(),
  relevance: z.number().min(0).max(1).optional(),
  prompt_projection: z.array(z.number()).max(64).optional(),
});
export type RequestEvent = z.infer<typeof requestEventSchema>;

export const topics = {
  requestEvents: "tiergate.request-events",
  feedback: "tiergate.feedback",
  documentChanges: "tiergate.document-changes",
} as const;

/**
 * A user's verdict on one answer, as it goes to Kafka (topic `tiergate.feedback`, key = tenant) and
 * lands in ClickHouse `feedback`, where drift jobs join it to `events` on (tenant, request_id).
 * `rating` is normalised to [-1, 1] (thumbs down/up are -1/1; a 1–5 scale maps linearly); `label` is a
 * short free category ("wrong", "helpful", …) or empty.
 */
export const feedbackEventSchema = z.object({
  feedback_id: z.uuid(),
  ts: z.number().int().nonnegative(),
  request_id: z.string().min(1),
  tenant: z.string().min(1),
  user_id: z.string(),
  rating: z.number().min(-1).max(1),
  label: z.string().max(64),
  comment: z.string().max(2000),
});
export type FeedbackEvent = z.infer<typeof feedbackEventSchema>;
