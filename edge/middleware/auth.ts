import { createMiddleware } from "hono/factory";
import { attr } from "../../shared/trace-attributes.ts";
import { clientIp } from "../lib/client-ip.ts";
import { inEdgeSpan } from "../lib/tracing/request.ts";
import type { HonoEnv } from "../types.ts";

/**
 * Requires a valid, active bearer key; sets `c.var.apiKey` and binds its tenant to `c.var.log`.
 * Malformed tokens are refused before any lookup; lookups past the key caches are limited per client IP.
 */
export const requireApiKey = createMiddleware<HonoEnv>(async (c, next) => {
  const key = await inEdgeSpan(c, "tiergate.key.verify", {}, async (span) => {
    const verified = await c
      .get("services")
      .keys.verify(c.req.header("authorization"), c.get("requestId"), clientIp(c.req.raw));
    span.setAttribute(attr.tenant, verified.tenantId);
    return verified;
  });
  c.set("apiKey", key);
  c.set("log", c.get("log").child({ tenant: key.tenantId }));
  await next();
});
