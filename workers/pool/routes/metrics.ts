import type { Hono } from "hono";
import type { PoolHonoEnv } from "../types.ts";

/**
 * GET /metrics: Prometheus text of this worker. Open like /health (no tenant data in any label); bind the
 * pool to a private network. Workers share the port, so a scrape reaches one of them: every series
 * carries `worker` (the pid) and Prometheus keeps them apart; sum over `worker` for the pool.
 */
export function registerMetricsRoutes(app: Hono<PoolHonoEnv>): void {
  app.get("/metrics", async (c) => {
    const { metrics } = c.var.services;
    return c.body(await metrics.render(), 200, { "content-type": metrics.contentType });
  });
}
