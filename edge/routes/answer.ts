import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { headers } from "../../shared/headers.ts";
import { jsonContent, plainResponses } from "../../shared/openapi.ts";
import {
  type AnswerRequest,
  type AnswerResponse,
  abstentions,
  answerRequestSchema,
  answerResponseSchema,
} from "../../shared/schemas/answer.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import { fallbackConfig, fallbackHeaders } from "../services/fallback.ts";
import { forwardJson } from "../services/json-forward.ts";
import type { HonoEnv } from "../types.ts";
import { assertModelAllowed, bearerSecurity, bodyRouteErrors, bodyRouteMiddleware } from "./common.ts";

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

const answer = answerResponseSchema.openapi("AnswerResponse");

const answerRoute = createRoute({
  method: "post",
  path: "/v1/answer",
  summary: "Answer with citations, or the deterministic abstention",
  security: bearerSecurity,
  middleware: bodyRouteMiddleware,
  request: { body: { required: true, content: jsonContent(answerRequestSchema.openapi("AnswerRequest")) } },
  responses: plainResponses({
    200: {
      description: "The answer; `rule` says whether it was generated or why not",
      content: jsonContent(answer),
    },
    503: { description: "No pool answered: the abstention (x-fallback)", content: jsonContent(answer) },
    ...bodyRouteErrors,
  }),
});

/** POST /v1/answer: forwarded to the pool's RAG endpoint; the abstention when no pool answers. */
export function registerAnswerRoutes(app: OpenAPIHono<HonoEnv>): void {
  app.openapi(answerRoute, async (c) => {
    const { services, apiKey, requestId } = c.var;
    const request = c.req.valid("json");
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
        clientRequestId: c.var.clientRequestId,
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
