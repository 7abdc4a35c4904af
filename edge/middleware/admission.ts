import { createMiddleware } from "hono/factory";
import { overloadedAtEntry } from "../services/admission.ts";
import type { HonoEnv } from "../types.ts";

/**
 * Refuses an API request as it enters, with 503 `overloaded` + Retry-After, while the isolate has more
 * requests in progress than its gate allows (edge/services/admission.ts `RequestGate`); otherwise
 * counts it until its response is ready.
 */
export const admitRequests = createMiddleware<HonoEnv>(async (c, next) => {
  const gate = c.var.services.requests;
  if (!gate) return next();
  if (!gate.tryEnter()) throw overloadedAtEntry;
  try {
    await next();
  } finally {
    gate.leave();
  }
});
