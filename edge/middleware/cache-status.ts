import { createMiddleware } from "hono/factory";
import { headers } from "../../shared/headers.ts";
import type { HonoEnv } from "../types.ts";

/** `x-cache` is on every response: routes that consult the cache set HIT or MISS, the rest are BYPASS. */
export const cacheStatusHeader = createMiddleware<HonoEnv>(async (c, next) => {
  await next();
  if (!c.res.headers.has(headers.cache)) c.res.headers.set(headers.cache, "BYPASS");
});
