import type { MiddlewareHandler } from "hono";
import type { PoolServices } from "../services.ts";

/** What metrics need of an app: its services' `metrics`. */
export type MetricsEnv = { Variables: { services: Pick<PoolServices, "metrics"> } };

/**
 * Times every request into the latency histogram, labelled by the matched route pattern (not the raw
 * path, so the label set stays bounded). Errors count too: the onError answer is already set when
 * `next` returns.
 */
export function requestMetrics<E extends MetricsEnv>(): MiddlewareHandler<E> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      c.get("services").metrics.observeRequest({
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        seconds: (performance.now() - started) / 1000,
      });
    }
  };
}
