import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { jsonContent } from "../../../shared/openapi.ts";
import type { PoolHonoEnv } from "../types.ts";
import { tags } from "./shared.ts";

const readiness = z.object({
  ready: z.boolean(),
  draining: z.boolean(),
  postgres: z.boolean(),
  clickhouse: z.boolean(),
  events: z.record(z.string(), z.unknown()),
  inFlight: z.number().int(),
});

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  summary: "The process is alive",
  tags: tags.probes,
  responses: {
    200: {
      description: "Alive",
      content: jsonContent(z.object({ status: z.literal("ok"), pid: z.number() })),
    },
  },
});

const readyRoute = createRoute({
  method: "get",
  path: "/ready",
  summary: "Whether this worker should get traffic (not draining, Postgres answers)",
  tags: tags.probes,
  responses: {
    200: { description: "Ready", content: jsonContent(readiness) },
    503: { description: "Not ready (draining or Postgres down)", content: jsonContent(readiness) },
  },
});

/**
 * `/health`: the process is alive. `/ready`: it should get traffic — not draining, and Postgres and
 * ClickHouse answer. Kafka is not required: events spool to disk while it is away.
 */
export function registerHealthRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(healthRoute, (c) => c.json({ status: "ok" as const, pid: process.pid }, 200));
  app.openapi(readyRoute, async (c) => {
    const { services } = c.var;
    const [postgres, clickhouse] = await Promise.all([services.pingPostgres(), services.clickhouse.ping()]);
    const events = services.events.stats();
    const ready = !services.inFlight.draining && postgres;
    return c.json(
      {
        ready,
        draining: services.inFlight.draining,
        postgres,
        clickhouse,
        events: { ...events },
        inFlight: services.inFlight.count,
      },
      ready ? 200 : 503,
    );
  });
}
