import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { adminPrincipalSchema, isAllowed } from "../../../../shared/admin/rbac.ts";
import {
  type AdminRouteSpec,
  adminPrefix,
  adminRoutes,
  forgetKeysHeader,
} from "../../../../shared/admin/routes.ts";
import { GatewayError } from "../../../../shared/errors.ts";
import { parseJsonBodyText } from "../../../../shared/json-limits.ts";
import { jsonContent, plainResponses } from "../../../../shared/openapi.ts";
import { keyVerifyRequestSchema } from "../../../../shared/schemas/keys.ts";
import { adminPrincipalById, authenticateAdminKey } from "../../../admin/admin-keys.ts";
import type { PoolHonoEnv } from "../../types.ts";
import { jsonBody, signedBodyErrors, signedErrors, signedSecurity, tags } from "../shared.ts";
import { type AdminCall, adminHandlers } from "./handlers.ts";

const authRoute = createRoute({
  method: "post",
  path: "/internal/v1/admin-auth",
  summary: "Which admin credential an admin key's sha256 is (null: unknown, revoked or expired)",
  tags: tags.internal,
  security: signedSecurity,
  middleware: jsonBody,
  request: { body: { required: true, content: jsonContent(keyVerifyRequestSchema) } },
  responses: {
    200: {
      description: "The credential, or null",
      content: jsonContent(z.object({ principal: adminPrincipalSchema.nullable() })),
    },
    ...signedBodyErrors,
  },
});

/**
 * The credential behind the call: the edge authenticated it and sends its id signed (key id header);
 * it is read again here, so a credential revoked since is refused. 403 (never 401: to the edge a 401
 * means its signature was refused).
 */
async function principalOf(c: Context<PoolHonoEnv>) {
  const id = c.var.caller.keyId;
  const principal = id ? await adminPrincipalById(c.var.services.database.db, id) : null;
  if (!principal) throw new GatewayError("ADMIN_REQUIRED", "The admin credential is not active.");
  return principal;
}

function inputsOf(c: Context<PoolHonoEnv>, spec: AdminRouteSpec) {
  const body = spec.method === "post" && c.var.rawBody ? parseJsonBodyText(c.var.rawBody) : {};
  return { params: c.req.param() as Record<string, string>, query: c.req.query(), body };
}

function registerOne(app: OpenAPIHono<PoolHonoEnv>, spec: AdminRouteSpec): void {
  const route = createRoute({
    method: spec.method,
    path: `${adminPrefix.pool}${spec.path}`,
    summary: `${spec.summary} (${spec.rule})`,
    tags: tags.internal,
    security: signedSecurity,
    ...(spec.method === "post" ? { middleware: jsonBody } : {}),
    responses: plainResponses({
      [spec.status ?? 200]: { description: "OK", content: jsonContent(spec.response) },
      ...(spec.method === "post" ? signedBodyErrors : signedErrors),
    }),
  });
  app.openapi(route, async (c) => {
    const principal = await principalOf(c);
    const { params, query, body } = inputsOf(c, spec);
    if (!isAllowed(principal, spec.rule, params.tenant)) {
      throw new GatewayError("ADMIN_REQUIRED", `The role ${principal.role} may not call ${spec.id} here.`);
    }
    const call: AdminCall = {
      c,
      principal,
      actor: { actor: principal.id, actorRole: principal.role, requestId: c.var.requestId },
      params,
      query,
      body,
    };
    const answer = await adminHandlers[spec.id as keyof typeof adminHandlers](call);
    if (answer.forgetHashes?.length) c.header(forgetKeysHeader, answer.forgetHashes.join(","));
    return c.json(answer.body as Record<string, unknown>, spec.status ?? 200);
  });
}

/**
 * The pool half of the admin API (`/internal/v1/admin/*`, traffic-signed by the edge after it
 * authenticated the admin key), and the edge's admin-key lookup. Each route re-checks its rule.
 */
export function registerAdminRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(authRoute, async (c) => {
    const { key_hash } = c.req.valid("json");
    return c.json({ principal: await authenticateAdminKey(c.var.services.database.db, key_hash) }, 200);
  });
  for (const spec of adminRoutes) registerOne(app, spec);
}
