import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { GatewayError } from "../../../shared/errors.ts";
import type { RequestEvent } from "../../../shared/events.ts";
import { headers } from "../../../shared/headers.ts";
import { jsonContent } from "../../../shared/openapi.ts";
import {
  type AnswerRequest,
  answerRequestSchema,
  answerResponseSchema,
} from "../../../shared/schemas/answer.ts";
import { findTier, tierOfModel } from "../../registry/types.ts";
import type { AnswerOutcome } from "../../retrieval/answer.ts";
import { defaultGenerationModel } from "../../retrieval/router-generator.ts";
import { modelForbidden, tierAllowed } from "../../router/allowed.ts";
import type { PoolHonoEnv } from "../types.ts";
import { jsonBody, recordEvent, signedBodyErrors, signedSecurity, tags } from "./shared.ts";

const answerRoute = createRoute({
  method: "post",
  path: "/internal/v1/answer",
  summary: "RAG answer with citations, or the abstention (the edge forwards POST /v1/answer)",
  tags: tags.internal,
  security: signedSecurity,
  middleware: jsonBody,
  request: { body: { required: true, content: jsonContent(answerRequestSchema) } },
  responses: {
    200: {
      description: "The answer; `rule` says whether it was generated or why not",
      content: jsonContent(answerResponseSchema),
    },
    ...signedBodyErrors,
  },
});

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
 * 403 before any retrieval when the key may not use the requested model, or (no model requested) may
 * use no chat tier at all: an answer must never come from a model the key is not allowed.
 */
function assertCanGenerate(
  c: Context<PoolHonoEnv>,
  model: string | undefined,
  allowedModels: readonly string[] | null,
): void {
  if (!allowedModels) return;
  const { router } = c.var.services.routing;
  if (model === undefined) {
    defaultGenerationModel(router, allowedModels);
    return;
  }
  const table = router.routingTable;
  const tier = findTier(table, model) ?? tierOfModel(table, model);
  if (tier && !tierAllowed(tier, allowedModels)) throw modelForbidden(model);
}

/**
 * POST /internal/v1/answer: RAG over the tenant's collection. Abstentions (no_context, below_threshold,
 * retrieval_unavailable) are answered with 200 without calling a generation model; the rule goes into
 * the request event as `fallback_reason`.
 */
export function registerAnswerRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(answerRoute, async (c) => {
    const started = Date.now();
    const request = c.req.valid("json");
    const tenant = c.req.header(headers.tenant);
    if (!tenant) throw new GatewayError("BAD_REQUEST", `Missing ${headers.tenant}.`);
    const { services } = c.var;
    const { allowedModels } = c.var.caller;
    assertCanGenerate(c, request.model, allowedModels);
    const outcome = await services.retrieval.answer(request, {
      tenant,
      requestId: c.var.requestId,
      signal: deadlineSignal(c),
      allowedModels,
    });
    if (outcome.retrievalError) {
      c.var.log.warn("answer: retrieval unavailable", { error: outcome.retrievalError });
    }
    const event = buildEvent(c, tenant, request, outcome, started);
    recordEvent(c, event);
    c.header(headers.route, "answer");
    c.header(headers.region, services.config.POOL_REGION);
    return c.json(outcome.response, 200);
  });
}
