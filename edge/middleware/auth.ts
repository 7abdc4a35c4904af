import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../types.ts";

/** Requires a valid, active bearer key; sets `c.var.apiKey` and binds its tenant to `c.var.log`. */
export const requireApiKey = createMiddleware<HonoEnv>(async (c, next) => {
  const key = await c.var.services.keys.verify(c.req.header("authorization"), c.var.requestId);
  c.set("apiKey", key);
  c.set("log", c.var.log.child({ tenant: key.tenantId }));
  await next();
});
