import { createMiddleware } from "hono/factory";
import { z } from "zod";
import {
  type AccessRule,
  adminKeyPattern,
  adminPrincipalSchema,
  isAllowed,
} from "../../../shared/admin/rbac.ts";
import { GatewayError } from "../../../shared/errors.ts";
import { apiKeyPattern } from "../../../shared/schemas/keys.ts";
import { sha256Hex } from "../../../shared/signing.ts";
import { clientIp } from "../../lib/client-ip.ts";
import type { HonoEnv } from "../../types.ts";

const authAnswer = z.object({ principal: adminPrincipalSchema.nullable() });

function bearerOf(authorization: string | undefined): string {
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) {
    throw new GatewayError(
      "UNAUTHORIZED",
      "Missing admin credential: send it as 'Authorization: Bearer tga_…'.",
    );
  }
  if (apiKeyPattern.test(token)) {
    throw new GatewayError(
      "INVALID_API_KEY",
      "API keys cannot call the admin API; use an admin credential (tga_…).",
    );
  }
  if (!adminKeyPattern.test(token))
    throw new GatewayError("INVALID_API_KEY", "Incorrect admin credential provided.");
  return token;
}

/**
 * Requires an active, unexpired admin credential (`tga_…`), looked up by its sha256 through the pool on
 * every call (no cache: a revocation takes effect at once), within the per-client-IP lookup limit
 * (AUTH_LOOKUPS_PER_IP_PER_SECOND, 429). Traffic keys get 401. Sets `adminPrincipal`.
 */
export const requireAdminKey = createMiddleware<HonoEnv>(async (c, next) => {
  const token = bearerOf(c.req.header("authorization"));
  const { services, requestId } = c.var;
  if (!(await services.keys.allowLookup(clientIp(c.req.raw)))) {
    throw new GatewayError("RATE_LIMITED", "Too many credential lookups from this address; slow down.", {
      headers: { "retry-after": "1" },
    });
  }
  const result = await services.pool.forward({
    method: "POST",
    path: "/internal/v1/admin-auth",
    body: JSON.stringify({ key_hash: await sha256Hex(token) }),
    requestId,
    deadline: Date.now() + 5_000,
    idempotent: true,
    recordHealth: false,
  });
  const unavailable = new GatewayError(
    "UPSTREAM_UNAVAILABLE",
    "Admin authentication is unavailable; try again.",
    {
      headers: { "retry-after": "1" },
    },
  );
  if (!result.ok) throw unavailable;
  const parsed = result.response.ok
    ? authAnswer.safeParse(await result.response.json().catch(() => null))
    : null;
  result.settle(false);
  if (!parsed?.success) {
    await result.response.body?.cancel().catch(() => undefined);
    throw unavailable;
  }
  if (!parsed.data.principal)
    throw new GatewayError("INVALID_API_KEY", "Incorrect admin credential provided.");
  c.set("adminPrincipal", parsed.data.principal);
  c.set("log", c.var.log.child({ admin: parsed.data.principal.id }));
  await next();
});

/** 403 unless the credential's role may call a route with `rule` (on the path's tenant). */
export function authorize(rule: AccessRule, routeId: string) {
  return createMiddleware<HonoEnv>(async (c, next) => {
    const principal = c.var.adminPrincipal;
    if (!isAllowed(principal, rule, c.req.param("tenant"))) {
      throw new GatewayError("ADMIN_REQUIRED", `The role ${principal.role} may not call ${routeId} here.`);
    }
    await next();
  });
}
