import { z } from "zod";

/** The roles an admin credential carries. */
export const adminRoles = ["admin", "tenant-admin", "viewer"] as const;
export type AdminRole = (typeof adminRoles)[number];

/**
 * Who holds an admin credential. `admin` is global (tenantId null); `tenant-admin` is bound to one tenant;
 * a `viewer` is global when tenantId is null, else it reads that one tenant only.
 */
export const adminPrincipalSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(adminRoles),
  tenantId: z.string().nullable(),
});
export type AdminPrincipal = z.infer<typeof adminPrincipalSchema>;

/**
 * What a route needs:
 * - `read:any`: every admin credential (the model registry, who am I);
 * - `read:global`: reads across tenants (admin, a global viewer);
 * - `read:tenant`: reads of the path's tenant (admin, a global viewer, its tenant-admin or viewer);
 * - `write:tenant`: changes to the path's tenant (admin, its tenant-admin);
 * - `write:global`: changes that are not one tenant's (admin only).
 */
export const accessRules = [
  "read:any",
  "read:global",
  "read:tenant",
  "write:tenant",
  "write:global",
] as const;
export type AccessRule = (typeof accessRules)[number];

/** True when `principal` may call a route with `rule` on `tenant` (the path's tenant, for tenant rules). */
export function isAllowed(principal: AdminPrincipal, rule: AccessRule, tenant?: string): boolean {
  if (principal.role === "admin") return true;
  const ownTenant = principal.tenantId !== null && tenant !== undefined && principal.tenantId === tenant;
  const globalViewer = principal.role === "viewer" && principal.tenantId === null;
  switch (rule) {
    case "read:any":
      return true;
    case "read:global":
      return globalViewer;
    case "read:tenant":
      return globalViewer || ownTenant;
    case "write:tenant":
      return principal.role === "tenant-admin" && ownTenant;
    case "write:global":
      return false;
  }
}

/** The shape of every admin credential: `tga_` and 32 base62 characters. Traffic keys (`tg_…`) never match. */
export const adminKeyPattern = /^tga_[0-9A-Za-z]{32}$/;
