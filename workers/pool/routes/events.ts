import type { Hono } from "hono";
import { z } from "zod";
import { requestEventSchema } from "../../../shared/events.ts";
import { parseJsonBodyText } from "../../../shared/json-limits.ts";
import { parseOrThrow } from "../../../shared/validation.ts";
import type { PoolHonoEnv } from "../types.ts";

const edgeEventBatchSchema = z.strictObject({ events: z.array(requestEventSchema).min(1).max(1_000) });

/**
 * POST /internal/v1/events: events of requests the edge answered itself (cache hits, fallbacks). They
 * join the pool's own on Kafka, so ClickHouse, metrics and the dashboard count every request.
 */
export function registerEventRoutes(app: Hono<PoolHonoEnv>): void {
  app.post("/internal/v1/events", (c) => {
    const { events } = parseOrThrow(edgeEventBatchSchema, parseJsonBodyText(c.var.rawBody));
    for (const event of events) {
      c.var.services.events.publish(event);
      // Answers from the edge (cache hits, fallbacks) get request rows too, so feedback can name them.
      c.var.services.recordRequest(event, { keyId: null });
    }
    return c.json({ accepted: events.length }, 202);
  });
}
