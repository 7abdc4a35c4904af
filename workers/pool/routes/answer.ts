import type { Context, Hono } from "hono";
import { GatewayError } from "../../../shared/errors.ts";
import type { RequestEvent } from "../../../shared/events.ts";
import { headers } from "../../../shared/headers.ts";
import { type AnswerRequest, answerRequestSchema } from "../../../shared/schemas/answer.ts";
import { parseOrThrow } from "../../../shared/validation.ts";
import type { AnswerOutcome } from "../../retrieval/answer.ts";
import type { PoolHonoEnv } from "../types.ts";

function parseBody(c: Context<PoolHonoEnv>): AnswerRequest {
  let json: unknown;
  try {
    json = JSON.parse(c.var.rawBody);
  } catch {
    throw new GatewayError("INVALID_JSON", "The request body is not valid JSON.");
  }
  return parseOrThrow(answerRequestSchema, json);
}

/** Aborts model and ClickHouse calls when the edge's deadline (epoch ms) passes. */
function deadlineSignal(c: Context<PoolHonoEnv>): AbortSignal | undefined {
  const deadline = Number(c.req.header(headers.deadline));
  if (!Number.isFinite(deadline) || deadline <= 0) return undefined;
  return AbortSignal.timeout(Math.max(1, deadline - Date.now()));
}

function buildEvent(
  c: Context<PoolHonoEnv>,
  tenant: string,
  request: AnswerRequest,
  outcome: AnswerOutcome,
  started: number,
): RequestEvent {
  const { response } = outcome;
  const generated = response.rule === "generated";
  return {
    event_id: crypto.randomUUID(),
    ts: Date.now(),
    request_id: c.var.requestId,
    tenant,
    user_id: request.user ?? "",
    route: "answer",
    tier: generated ? "generation" : "abstain",
    model: response.model ?? "",
    model_version: "",
    provider: generated ? "openai-compatible" : "rules",
    status: 200,
    cache: "MISS",
    fallback_reason: generated ? "" : response.rule,
    queue_ms: 0,
    ttft_ms: Date.now() - started,
    latency_ms: Date.now() - started,
    prompt_tokens: response.usage?.prompt_tokens ?? 0,
    completion_tokens: response.usage?.completion_tokens ?? 0,
  };
}

/**
 * POST /internal/v1/answer: RAG over the tenant's collection. Abstentions (no_context, below_threshold,
 * retrieval_unavailable) are answered with 200 without calling a generation model; the rule goes into
 * the request event as `fallback_reason`.
 */
export function registerAnswerRoutes(app: Hono<PoolHonoEnv>): void {
  app.post("/internal/v1/answer", async (c) => {
    const started = Date.now();
    const request = parseBody(c);
    const tenant = c.req.header(headers.tenant);
    if (!tenant) throw new GatewayError("BAD_REQUEST", `Missing ${headers.tenant}.`);
    const { services } = c.var;
    const outcome = await services.retrieval.answer(request, {
      tenant,
      requestId: c.var.requestId,
      signal: deadlineSignal(c),
    });
    if (outcome.retrievalError) {
      c.var.log.warn("answer: retrieval unavailable", { error: outcome.retrievalError });
    }
    const event = buildEvent(c, tenant, request, outcome, started);
    services.events.publish(event);
    services.recordRequest(event, c.req.header(headers.keyId) ?? null);
    c.header(headers.route, "answer");
    c.header(headers.region, services.config.POOL_REGION);
    return c.json(outcome.response);
  });
}
