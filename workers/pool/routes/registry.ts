import type { Hono } from "hono";
import { z } from "zod";
import { parseOrThrow } from "../../../shared/validation.ts";
import { auditLog, listVersions } from "../../registry/store.ts";
import type { PoolHonoEnv } from "../types.ts";
import { parseJsonBody } from "./chat.ts";

const promoteBody = z.strictObject({
  tier: z.string().min(1).max(64),
  version: z.string().min(1).max(256),
  actor: z.string().min(1).max(128),
  reason: z.string().min(1).max(1000),
});
const rollbackBody = promoteBody.omit({ version: true });

/**
 * The registry's signed admin API (under /internal, so only the edge's signing key can call it):
 * list versions and the audit log, promote a version, roll a tier back.
 */
export function registerRegistryRoutes(app: Hono<PoolHonoEnv>): void {
  app.get("/internal/v1/registry", async (c) => {
    const { services } = c.var;
    return c.json({
      source: services.routing.router.routingTable.source,
      versions: await listVersions(services.database.db),
      audit: await auditLog(services.database.db, c.req.query("tier"), 20),
    });
  });
  app.post("/internal/v1/registry/promote", async (c) => {
    const body = parseOrThrow(promoteBody, parseJsonBody(c));
    return c.json(await c.var.services.routing.promote(body));
  });
  app.post("/internal/v1/registry/rollback", async (c) => {
    const body = parseOrThrow(rollbackBody, parseJsonBody(c));
    return c.json(await c.var.services.routing.rollback(body.tier, body.reason, body.actor));
  });
}
