import type { Hono } from "hono";
import type { PoolHonoEnv } from "../types.ts";

/**
 * `/health`: the process is alive. `/ready`: it should get traffic — not draining, and Postgres and
 * ClickHouse answer. Kafka is not required: events spool to disk while it is away.
 */
export function registerHealthRoutes(app: Hono<PoolHonoEnv>): void {
  app.get("/health", (c) => c.json({ status: "ok", pid: process.pid }));
  app.get("/ready", async (c) => {
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
        events,
        inFlight: services.inFlight.count,
      },
      ready ? 200 : 503,
    );
  });
}
