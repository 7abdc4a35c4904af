import type { RequestEvent } from "../../shared/events.ts";
import type { RouteDecision } from "./policy.ts";
import { formatDecision } from "./policy.ts";
import type { Served } from "./router.ts";

/** What the pool knows about a request when it ends, for its one RequestEvent. */
export interface RequestOutcome {
  requestId: string;
  tenant: string;
  userId: string;
  route: string;
  /** When the pool received the request (epoch ms). */
  arrivedAt: number;
  status: number;
  decision?: RouteDecision;
  served?: Served;
  firstTokenAt?: number;
  promptTokens?: number;
  completionTokens?: number;
  /** Drift inputs: prompt and answer sizes in characters, when the route knows them. */
  promptChars?: number;
  answerChars?: number;
}

/** The optional drift fields of the event: the classifier's task and confidence, sizes when known. */
function driftFields(outcome: RequestOutcome): Partial<RequestEvent> {
  const fields: Partial<RequestEvent> = {};
  const classification = outcome.decision?.classification;
  if (classification) {
    fields.task = classification.task;
    fields.confidence = Math.min(1, Math.max(0, classification.confidence));
    if (classification.category) fields.route_class = classification.category;
    if (classification.success) fields.route_success = { ...classification.success };
  }
  if (outcome.decision?.shift) fields.route_shift = outcome.decision.shift;
  if (outcome.promptChars !== undefined) fields.prompt_chars = outcome.promptChars;
  if (outcome.answerChars !== undefined) fields.answer_chars = outcome.answerChars;
  return fields;
}

/**
 * The event of one routed request. Latency phases: `queue_ms` is the time in the pool before the
 * answering attempt began (classification, routing, failed attempts); `ttft_ms` runs to the first token
 * (the whole answer when not streamed); `latency_ms` to the end.
 */
export function routedEvent(outcome: RequestOutcome): RequestEvent {
  const now = Date.now();
  const served = outcome.served;
  const startedAt = served?.startedAt ?? now;
  return {
    event_id: crypto.randomUUID(),
    ts: now,
    request_id: outcome.requestId,
    tenant: outcome.tenant,
    user_id: outcome.userId,
    route: outcome.route,
    tier: served?.tier ?? outcome.decision?.tier ?? "",
    model: served?.model ?? "",
    model_version: served?.version ?? "",
    provider: served?.provider ?? "",
    status: outcome.status,
    cache: "MISS",
    fallback_reason: served?.fallbackReason ?? "",
    route_decision: outcome.decision
      ? formatDecision(outcome.decision, served?.tier ?? outcome.decision.tier)
      : "",
    queue_ms: Math.max(0, startedAt - outcome.arrivedAt),
    ttft_ms: Math.max(0, (outcome.firstTokenAt ?? now) - outcome.arrivedAt),
    latency_ms: Math.max(0, now - outcome.arrivedAt),
    prompt_tokens: outcome.promptTokens ?? 0,
    completion_tokens: outcome.completionTokens ?? 0,
    ...driftFields(outcome),
  };
}
