import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { jsonContent } from "../../../shared/openapi.ts";
import { embeddingsRequestSchema, embeddingsResponseSchema } from "../../../shared/schemas/embeddings.ts";
import { routedEvent } from "../../router/events.ts";
import type { PoolHonoEnv } from "../types.ts";
import {
  jsonBody,
  recordEvent,
  recordFailures,
  requestIdentity,
  routingContext,
  setRoutingHeaders,
  signedBodyErrors,
  signedSecurity,
  tags,
} from "./shared.ts";

const embeddingsRoute = createRoute({
  method: "post",
  path: "/internal/v1/embeddings",
  summary: "Embeddings from the embeddings tier (the edge forwards POST /v1/embeddings)",
  tags: tags.internal,
  security: signedSecurity,
  middleware: [recordFailures("embeddings"), jsonBody],
  request: { body: { required: true, content: jsonContent(embeddingsRequestSchema()) } },
  responses: {
    200: { description: "OK", content: jsonContent(embeddingsResponseSchema) },
    ...signedBodyErrors,
  },
});

/** POST /internal/v1/embeddings: the embeddings tier (`tiergate-embed` locally), balanced and retried. */
export function registerEmbeddingsRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(embeddingsRoute, async (c) => {
    const arrivedAt = Date.now();
    const { services } = c.var;
    const request = c.req.valid("json");
    const { served, response } = await services.routing.router.embed(request, routingContext(c, arrivedAt));
    const event = routedEvent({
      ...requestIdentity(c, request.user),
      route: "embeddings",
      arrivedAt,
      status: 200,
      served,
      promptTokens: response.usage?.prompt_tokens ?? 0,
    });
    recordEvent(c, event);
    setRoutingHeaders(c, served);
    return c.json(response, 200);
  });
}
