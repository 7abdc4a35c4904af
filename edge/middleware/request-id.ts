import { createMiddleware } from "hono/factory";
import { headers } from "../../shared/headers.ts";
import { bootLogger } from "../lib/boot-logger.ts";
import type { HonoEnv } from "../types.ts";

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Takes the client's `x-request-id` when it is well-formed, else makes one, binds it to `c.var.log`,
 * and echoes it on every response. `x-cache` is on every response too: routes that consult the cache set HIT or MISS, the
 * rest are BYPASS.
 */
export const requestIdAndCacheStatus = createMiddleware<HonoEnv>(async (c, next) => {
  const incoming = c.req.header(headers.requestId);
  const id =
    incoming && requestIdPattern.test(incoming) ? incoming : `req_${crypto.randomUUID().replaceAll("-", "")}`;
  c.set("requestId", id);
  c.set("arrivedAt", Date.now());
  c.set("log", bootLogger.child({ request_id: id }));
  await next();
  c.res.headers.set(headers.requestId, id);
  if (!c.res.headers.has(headers.cache)) c.res.headers.set(headers.cache, "BYPASS");
});
