import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { requestEventSchema } from "../../../shared/events.ts";
import { jsonContent } from "../../../shared/openapi.ts";
import type { PoolHonoEnv } from "../types.ts";
import { jsonBody, signedBodyErrors, signedSecurity, tags } from "./shared.ts";

const edgeEventBatchSchema = z.strictObject({ events: z.array(requestEventSchema).min(1).max(1_000) });

const eventsRoute = createRoute({
  method: "post",
  path: "/internal/v1/events",
  summary: "Events of requests the edge answered itself (cache hits, fallbacks, refusals)",
  tags: tags.internal,
  security: signedSecurity,
  middleware: jsonBody,
  request: { body: { required: true, content: jsonContent(edgeEventBatchSchema) } },
  responses: {
    202: { description: "Queued for Kafka", content: jsonContent(z.object({ accepted: z.number().int() })) },
    ...signedBodyErrors,
  },
});

/**
 * POST /internal/v1/events: events of requests the edge answered itself (cache hits, fallbacks). They
 * join the pool's own on Kafka, so ClickHouse, metrics and the dashboard count every request.
 */
export function registerEventRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(eventsRoute, (c) => {
    const { events } = c.req.valid("json");
    for (const event of events) {
      c.var.services.events.publish(event);
      // Answers from the edge (cache hits, fallbacks) get request rows too, so feedback can name them.
      c.var.services.recordRequest(event, { keyId: null });
    }
    return c.json({ accepted: events.length }, 202);
  });
}
