import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { plainResponses, textContent } from "../../../shared/openapi.ts";
import type { MetricsEnv } from "../middleware/metrics.ts";
import { tags } from "./shared.ts";

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  summary: "Prometheus text of every pool worker (each series carries `worker`)",
  tags: tags.probes,
  responses: plainResponses({ 200: { description: "OK", content: textContent("text/plain") } }),
});

/**
 * GET /metrics: Prometheus text of the whole pool. Open like /health (no tenant data in any label); bind
 * the pool to a private network. Workers share the port, so a scrape reaches one of them, which merges
 * its siblings' registries (read over private Unix sockets): every series carries `worker` (its index),
 * and `sum without (worker)` gives the pool.
 */
export function registerMetricsRoutes<E extends MetricsEnv>(app: OpenAPIHono<E>): void {
  app.openapi(metricsRoute, async (c) => {
    const { metrics } = c.var.services;
    return c.body(await metrics.render(), 200, { "content-type": metrics.contentType });
  });
}
