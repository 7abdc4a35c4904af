import { createMiddleware } from "hono/factory";
import { headers } from "../../shared/headers.ts";
import { overloadedAtEntry } from "../services/admission.ts";
import type { HonoEnv } from "../types.ts";

/**
 * Refuses an API request as it enters, with 503 `overloaded` + Retry-After, while the isolate has more
 * requests in progress than its gate allows (edge/services/request-gate.ts); otherwise counts it until
 * its response is ready, and adds the isolate's time on it to `server-timing` (`edge;dur=<ms>`, after
 * the pool's entry when one answered). Clocks inside workerd stand still between I/O events, so that
 * time runs from the request's delivery to the isolate to the last I/O it awaited (for a forward, the
 * pool's answer); time spent before the isolate saw the request is the client's total minus this.
 */
export const admitRequests = createMiddleware<HonoEnv>(async (c, next) => {
  const gate = c.var.services.requests;
  if (!gate) return next();
  if (!gate.tryEnter()) throw overloadedAtEntry;
  try {
    await next();
    c.res.headers.append(headers.serverTiming, `edge;dur=${Date.now() - c.var.arrivedAt}`);
  } finally {
    gate.leave();
  }
});
