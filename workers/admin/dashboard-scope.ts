import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { adminKeyPattern } from "../../shared/admin/rbac.ts";
import { GatewayError } from "../../shared/errors.ts";
import { sha256HexSync } from "../lib/sha256.ts";
import type { PoolHonoEnv } from "../pool/types.ts";
import { authenticateAdminKey } from "./admin-keys.ts";

// The dashboard also admits admin credentials (tga_…): admin and a global viewer see every tenant; a
// tenant-admin or a tenant's viewer only its own tenant.

const cookieName = "tiergate_dashboard_admin";
const sessionSeconds = 12 * 3600;

function hashFromRequest(c: Context<PoolHonoEnv>): string | undefined {
  const bearer = c.req.header("authorization")?.match(/^Bearer (.+)$/)?.[1];
  if (bearer !== undefined) return adminKeyPattern.test(bearer) ? sha256HexSync(bearer) : undefined;
  const cookie = getCookie(c, cookieName);
  return cookie && /^[0-9a-f]{64}$/.test(cookie) ? cookie : undefined;
}

/**
 * True when the request carries an active admin credential (bearer, or the session cookie its login
 * set); then `dashboardTenant` is set for tenant-bound credentials. Re-checked on every request, so a
 * revoked credential's session ends at once.
 */
export async function admitAdminCredential(c: Context<PoolHonoEnv>): Promise<boolean> {
  const hash = hashFromRequest(c);
  if (!hash) return false;
  const principal = await authenticateAdminKey(c.var.services.database.db, hash);
  if (!principal) return false;
  if (principal.tenantId) c.set("dashboardTenant", principal.tenantId);
  return true;
}

/**
 * The login form with an admin credential: sets a session cookie holding the credential's sha256 (the
 * credential itself never is stored) and redirects; false when `presented` is not an active one.
 */
export async function loginWithAdminCredential(
  c: Context<PoolHonoEnv>,
  presented: unknown,
): Promise<boolean> {
  if (typeof presented !== "string" || !adminKeyPattern.test(presented)) return false;
  const hash = sha256HexSync(presented);
  if (!(await authenticateAdminKey(c.var.services.database.db, hash))) return false;
  const https =
    new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto")?.startsWith("https");
  setCookie(c, cookieName, hash, {
    httpOnly: true,
    sameSite: "Strict",
    secure: https === true,
    path: "/dashboard",
    maxAge: sessionSeconds,
  });
  return true;
}

/** The stats query within the credential's scope: a tenant-bound credential sees its tenant only (403 for another). */
export function scopeDashboardQuery<Q extends { tenant: string }>(c: Context<PoolHonoEnv>, query: Q): Q {
  const scoped = c.get("dashboardTenant");
  if (!scoped) return query;
  if (query.tenant !== "" && query.tenant !== scoped) {
    throw new GatewayError("ADMIN_REQUIRED", "This credential sees its own tenant only.", {
      param: "tenant",
    });
  }
  return { ...query, tenant: scoped };
}
