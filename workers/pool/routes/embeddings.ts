import type { Hono } from "hono";
import { embeddingsRequestSchema } from "../../../shared/schemas/embeddings.ts";
import { parseOrThrow } from "../../../shared/validation.ts";
import { routedEvent } from "../../router/events.ts";
import type { PoolHonoEnv } from "../types.ts";
import {
  parseJsonBody,
  recordFailures,
  requestIdentity,
  requestOrigin,
  routingContext,
  setRoutingHeaders,
} from "./chat.ts";

const schema = embeddingsRequestSchema();

/** POST /internal/v1/embeddings: the embeddings tier (`tiergate-embed` locally), balanced and retried. */
export function registerEmbeddingsRoutes(app: Hono<PoolHonoEnv>): void {
  app.use("/internal/v1/embeddings", recordFailures("embeddings"));
  app.post("/internal/v1/embeddings", async (c) => {
    const arrivedAt = Date.now();
    const { services } = c.var;
    const request = parseOrThrow(schema, parseJsonBody(c));
    const { served, response } = await services.routing.router.embed(request, routingContext(c, arrivedAt));
    const event = routedEvent({
      ...requestIdentity(c, request.user),
      route: "embeddings",
      arrivedAt,
      status: 200,
      served,
      promptTokens: response.usage?.prompt_tokens ?? 0,
    });
    services.events.publish(event);
    services.recordRequest(event, requestOrigin(c));
    setRoutingHeaders(c, served);
    return c.json(response);
  });
}
