import { createMiddleware } from "hono/factory";
import { headers } from "../../shared/headers.ts";
import { isRequestId, newRequestId } from "../../shared/request-id.ts";
import { bootLogger } from "../lib/boot-logger.ts";
import type { HonoEnv } from "../types.ts";

/**
 * Gives every request the server's own id (`x-request-id` on every response, the key of its request
 * row and event), binds it (and the client's id) to `c.var.log`, and keeps the client's id, from `x-client-request-id` or
 * `x-request-id` when it passes the shared validator, as `clientRequestId`, echoed as
 * `x-client-request-id`. `x-cache` is on every response too: routes that consult the cache set HIT or
 * MISS, the rest are BYPASS.
 */
export const requestIdAndCacheStatus = createMiddleware<HonoEnv>(async (c, next) => {
  const client = c.req.header(headers.clientRequestId) ?? c.req.header(headers.requestId);
  const id = newRequestId();
  c.set("requestId", id);
  if (isRequestId(client)) c.set("clientRequestId", client);
  c.set("arrivedAt", Date.now());
  c.set(
    "log",
    bootLogger.child(
      isRequestId(client) ? { request_id: id, client_request_id: client } : { request_id: id },
    ),
  );
  await next();
  c.res.headers.set(headers.requestId, id);
  if (isRequestId(client)) c.res.headers.set(headers.clientRequestId, client);
  if (!c.res.headers.has(headers.cache)) c.res.headers.set(headers.cache, "BYPASS");
});
