import type { Hono } from "hono";
import { z } from "zod";
import { GatewayError } from "../../../shared/errors.ts";
import { requestEventSchema } from "../../../shared/events.ts";
import { parseOrThrow } from "../../../shared/validation.ts";
import type { PoolHonoEnv } from "../types.ts";

const edgeEventBatchSchema = z.strictObject({ events: z.array(requestEventSchema).min(1).max(1_000) });

/**
 * POST /internal/v1/events: events of requests the edge answered itself (cache hits, fallbacks). They
 * join the pool's own on Kafka, so ClickHouse, metrics and the dashboard count every request.
 */
export function registerEventRoutes(app: Hono<PoolHonoEnv>): void {
  app.post("/internal/v1/events", (c) => {
    let json: unknown;
    try {
      json = JSON.parse(c.var.rawBody);
    } catch {
      throw new GatewayError("INVALID_JSON", "The request body is not valid JSON.");
    }
    const { events } = parseOrThrow(edgeEventBatchSchema, json);
    for (const event of events) c.var.services.events.publish(event);
    return c.json({ accepted: events.length }, 202);
  });
}
