import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { jsonContent, plainResponses } from "../../../shared/openapi.ts";
import { auditLog, listVersions } from "../../registry/store.ts";
import type { PoolHonoEnv } from "../types.ts";
import { jsonBody, signedBodyErrors, signedErrors, signedSecurity, tags } from "./shared.ts";

/** No `actor`: the audit actor is the admin credential that signed the call. */
const promoteBody = z.strictObject({
  tier: z.string().min(1).max(64),
  version: z.string().min(1).max(256),
  reason: z.string().min(1).max(1000),
});
const rollbackBody = promoteBody.omit({ version: true });

/** The registry's answers are its store's rows, documented as JSON objects. */
const registryAnswer = { description: "OK", content: jsonContent(z.record(z.string(), z.unknown())) };

const listRoute = createRoute({
  method: "get",
  path: "/internal/v1/registry",
  summary: "Model versions, the routing table's source and the audit log (optionally of one tier)",
  tags: tags.admin,
  security: signedSecurity,
  request: { query: z.object({ tier: z.string().max(64).optional() }) },
  responses: plainResponses({ 200: registryAnswer, ...signedErrors }),
});

const promoteRoute = createRoute({
  method: "post",
  path: "/internal/v1/registry/promote",
  summary: "Make a version the tier's active one (audited)",
  tags: tags.admin,
  security: signedSecurity,
  middleware: jsonBody,
  request: { body: { required: true, content: jsonContent(promoteBody) } },
  responses: plainResponses({ 200: registryAnswer, ...signedBodyErrors }),
});

const rollbackRoute = createRoute({
  method: "post",
  path: "/internal/v1/registry/rollback",
  summary: "Return a tier to its previous version (audited)",
  tags: tags.admin,
  security: signedSecurity,
  middleware: jsonBody,
  request: { body: { required: true, content: jsonContent(rollbackBody) } },
  responses: plainResponses({ 200: registryAnswer, ...signedBodyErrors }),
});

/**
 * The registry's admin API (signed with an admin credential, see app.ts): list versions and the audit
 * log, promote a version, roll a tier back. The audit actor is the credential's name.
 */
export function registerRegistryRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(listRoute, async (c) => {
    const { services } = c.var;
    return c.json({
      source: services.routing.router.routingTable.source,
      versions: await listVersions(services.database.db),
      audit: await auditLog(services.database.db, c.req.valid("query").tier, 20),
    });
  });
  app.openapi(promoteRoute, async (c) => {
    const body = c.req.valid("json");
    return c.json(
      await c.var.services.routing.promote({
        tier: body.tier,
        version: body.version,
        actor: `admin:${c.var.caller.credential}`,
        reason: body.reason,
      }),
    );
  });
  app.openapi(rollbackRoute, async (c) => {
    const body = c.req.valid("json");
    return c.json(
      await c.var.services.routing.rollback(body.tier, body.reason, `admin:${c.var.caller.credential}`),
    );
  });
}
