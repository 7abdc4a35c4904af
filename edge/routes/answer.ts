import type { Hono } from "hono";
import { headers } from "../../shared/headers.ts";
import {
  type AnswerRequest,
  type AnswerResponse,
  abstentions,
  answerRequestSchema,
  answerResponseSchema,
} from "../../shared/schemas/answer.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import { requireApiKey } from "../middleware/auth.ts";
import { limitBody, readJson } from "../middleware/json-body.ts";
import { enforceRateLimit } from "../middleware/rate-limit.ts";
import { fallbackConfig, fallbackHeaders } from "../services/fallback.ts";
import { forwardJson } from "../services/json-forward.ts";
import type { HonoEnv } from "../types.ts";
import { assertModelAllowed } from "./chat.ts";

/** When retrieval is unreachable the answer is the deterministic abstention, never a guess. */
function abstention(request: AnswerRequest, requestId: string): AnswerResponse {
  return {
    id: `fallback-${requestId}`,
    object: "answer",
    created: Math.floor(Date.now() / 1000),
    answer: abstentions.no_context,
    rule: "retrieval_unavailable",
    scores: { best: null, threshold: request.threshold ?? 0, retrieved: 0 },
    citations: [],
    model: null,
    usage: null,
  };
}

/** POST /v1/answer: forwarded to the pool's RAG endpoint; the abstention when no pool answers. */
export function registerAnswerRoutes(app: Hono<HonoEnv>): void {
  app.post("/v1/answer", limitBody, requireApiKey, enforceRateLimit, async (c) => {
    const { services, apiKey, requestId } = c.var;
    const request = parseOrThrow(answerRequestSchema, await readJson(c));
    if (request.model) assertModelAllowed(c, request.model);
    const result = await forwardJson(
      services.pool,
      {
        method: "POST",
        path: "/internal/v1/answer",
        body: JSON.stringify(request),
        requestId,
        tenant: apiKey.tenantId,
        keyId: apiKey.keyId,
        allowedModels: apiKey.allowedModels,
        traceparent: traceparentOf(c),
        deadline: Date.now() + services.config.POOL_TIMEOUT_MS,
      },
      answerResponseSchema,
    );
    if (result.ok) {
      return c.body(result.body, result.status as 200, {
        "content-type": "application/json",
        [headers.region]: result.region,
      });
    }
    const config = fallbackConfig(services.config);
    return c.json(abstention(request, requestId), config.status, fallbackHeaders(result.reason, config));
  });
}
