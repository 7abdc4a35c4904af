import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { GatewayError } from "../../shared/errors.ts";
import { headers } from "../../shared/headers.ts";
import { errorResponses, jsonContent, plainResponses } from "../../shared/openapi.ts";
import { embeddingsRequestBodySchema, embeddingsResponseSchema } from "../../shared/schemas/embeddings.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import { forwardJson } from "../services/json-forward.ts";
import type { HonoEnv } from "../types.ts";
import { assertModelAllowed, bearerSecurity, bodyRouteErrors, bodyRouteMiddleware } from "./common.ts";

const embeddingsRoute = createRoute({
  method: "post",
  path: "/v1/embeddings",
  summary: "Embeddings (not cached)",
  description:
    "MAX_MESSAGES and MAX_CONTENT_CHARS (256 and 100000 by default) cap the inputs and each input's length.",
  security: bearerSecurity,
  middleware: bodyRouteMiddleware,
  request: {
    body: { required: true, content: jsonContent(embeddingsRequestBodySchema.openapi("EmbeddingsRequest")) },
  },
  responses: plainResponses({
    200: { description: "OK", content: jsonContent(embeddingsResponseSchema.openapi("EmbeddingsResponse")) },
    ...bodyRouteErrors,
    ...errorResponses(503),
  }),
});

/**
 * POST /v1/embeddings. Not cached. Embeddings have no meaningful canned answer, so when no pool can
 * answer this is a 503 `upstream_unavailable` carrying the same `x-fallback` reason as chat.
 */
export function registerEmbeddingsRoutes(app: OpenAPIHono<HonoEnv>): void {
  app.openapi(embeddingsRoute, async (c) => {
    const { services, apiKey, requestId } = c.var;
    const request = c.req.valid("json");
    parseOrThrow(services.embeddingsLimits, request);
    assertModelAllowed(c, request.model);
    const result = await forwardJson(
      services.pool,
      {
        method: "POST",
        path: "/internal/v1/embeddings",
        body: JSON.stringify(request),
        requestId,
        tenant: apiKey.tenantId,
        keyId: apiKey.keyId,
        allowedModels: apiKey.allowedModels,
        traceparent: traceparentOf(c),
        clientRequestId: c.var.clientRequestId,
        deadline: Date.now() + services.config.POOL_TIMEOUT_MS,
      },
      embeddingsResponseSchema,
    );
    if (!result.ok) {
      throw new GatewayError("UPSTREAM_UNAVAILABLE", "No regional pool could compute the embeddings.", {
        headers: { "retry-after": "1", [headers.fallback]: result.reason },
      });
    }
    return c.body(result.body, result.status as 200, {
      "content-type": "application/json",
      [headers.region]: result.region,
    });
  });
}
