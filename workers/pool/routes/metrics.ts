import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { plainResponses, textContent } from "../../../shared/openapi.ts";
import type { MetricsEnv } from "../middleware/metrics.ts";
import { tags } from "./shared.ts";

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  summary: "Prometheus text of the worker that answered (every series carries `worker`)",
  tags: tags.probes,
  responses: plainResponses({ 200: { description: "OK", content: textContent("text/plain") } }),
});

/**
 * GET /metrics: Prometheus text of this worker. Open like /health (no tenant data in any label); bind the
 * pool to a private network. Workers share the port, so a scrape reaches one of them: every series
 * carries `worker` (the pid) and Prometheus keeps them apart; sum over `worker` for the pool.
 */
export function registerMetricsRoutes<E extends MetricsEnv>(app: OpenAPIHono<E>): void {
  app.openapi(metricsRoute, async (c) => {
    const { metrics } = c.var.services;
    return c.body(await metrics.render(), 200, { "content-type": metrics.contentType });
  });
}
