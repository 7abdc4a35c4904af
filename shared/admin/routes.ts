import type { z } from "@hono/zod-openapi";
import * as s from "../schemas/admin.ts";
import type { AccessRule } from "./rbac.ts";

/**
 * One admin route: declared at the edge as `/admin/v1<path>` and served by the pool as
 * `/internal/v1/admin<path>`. `rule` is checked at both (the RBAC test matrix is generated from this
 * table, so a route without a rule cannot be added).
 */
export interface AdminRouteSpec {
  id: string;
  method: "get" | "post";
  /** OpenAPI style (`{tenant}`), below the prefix. */
  path: string;
  rule: AccessRule;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  response: z.ZodType;
  /** 201 for creations; 200 otherwise. */
  status?: 200 | 201;
  /** True when the route changes something (and writes an audit row). */
  mutates?: boolean;
}

const tenantPath = "/tenants/{tenant}";
const keyPath = `${tenantPath}/keys/{key_id}`;

/** Every admin route. */
export const adminRoutes = [
  {
    id: "whoami",
    method: "get",
    path: "/whoami",
    rule: "read:any",
    summary: "The calling credential",
    response: s.whoamiSchema,
  },
  {
    id: "tenants.list",
    method: "get",
    path: "/tenants",
    rule: "read:global",
    summary: "Every tenant",
    response: s.tenantListSchema,
  },
  {
    id: "tenants.create",
    method: "post",
    path: "/tenants",
    rule: "write:global",
    summary: "Create a tenant",
    body: s.tenantCreateSchema,
    response: s.tenantSchema,
    status: 201,
    mutates: true,
  },
  {
    id: "tenants.get",
    method: "get",
    path: tenantPath,
    rule: "read:tenant",
    summary: "One tenant",
    params: s.tenantParams,
    response: s.tenantSchema,
  },
  {
    id: "keys.list",
    method: "get",
    path: `${tenantPath}/keys`,
    rule: "read:tenant",
    summary: "A tenant's API keys (no secrets)",
    params: s.tenantParams,
    response: s.keyListSchema,
  },
  {
    id: "keys.create",
    method: "post",
    path: `${tenantPath}/keys`,
    rule: "write:tenant",
    summary: "Create an API key (the secret is shown once)",
    params: s.tenantParams,
    body: s.keyCreateSchema,
    response: s.keyWithSecretSchema,
    status: 201,
    mutates: true,
  },
  {
    id: "keys.get",
    method: "get",
    path: keyPath,
    rule: "read:tenant",
    summary: "One API key",
    params: s.keyParams,
    response: s.keySchema,
  },
  {
    id: "keys.update",
    method: "post",
    path: keyPath,
    rule: "write:tenant",
    summary: "Change a key's limits, models or expiry",
    params: s.keyParams,
    body: s.keyUpdateSchema,
    response: s.keySchema,
    mutates: true,
  },
  {
    id: "keys.revoke",
    method: "post",
    path: `${keyPath}/revoke`,
    rule: "write:tenant",
    summary: "Revoke an API key",
    params: s.keyParams,
    response: s.keySchema,
    mutates: true,
  },
  {
    id: "keys.rotate",
    method: "post",
    path: `${keyPath}/rotate`,
    rule: "write:tenant",
    summary: "New secret for a key; the old one stops after grace_seconds",
    params: s.keyParams,
    body: s.keyRotateSchema,
    response: s.keyWithSecretSchema,
    mutates: true,
  },
  {
    id: "usage.tenant",
    method: "get",
    path: `${tenantPath}/usage`,
    rule: "read:tenant",
    summary: "A tenant's usage by key, model and period",
    params: s.tenantParams,
    query: s.usageQuerySchema,
    response: s.usageSchema,
  },
  {
    id: "usage.all",
    method: "get",
    path: "/usage",
    rule: "read:global",
    summary: "Usage of every tenant",
    query: s.usageQuerySchema,
    response: s.usageSchema,
  },
  {
    id: "payloads.tenant",
    method: "get",
    path: `${tenantPath}/payloads`,
    rule: "read:tenant",
    summary: "A tenant's logged prompts and answers (payload logging is per key, off by default)",
    params: s.tenantParams,
    query: s.payloadQuerySchema,
    response: s.payloadListSchema,
  },
  {
    id: "audit.tenant",
    method: "get",
    path: `${tenantPath}/audit`,
    rule: "read:tenant",
    summary: "A tenant's admin audit log, newest first",
    params: s.tenantParams,
    query: s.auditQuerySchema,
    response: s.auditListSchema,
  },
  {
    id: "audit.all",
    method: "get",
    path: "/audit",
    rule: "read:global",
    summary: "The whole admin audit log, newest first",
    query: s.auditQuerySchema,
    response: s.auditListSchema,
  },
  {
    id: "registry.list",
    method: "get",
    path: "/registry/models",
    rule: "read:any",
    summary: "Model versions per tier",
    response: s.registryListSchema,
  },
  {
    id: "registry.promote",
    method: "post",
    path: "/registry/promote",
    rule: "write:global",
    summary: "Make a version its tier's active one",
    body: s.promoteSchema,
    response: s.registryChangeSchema,
    mutates: true,
  },
  {
    id: "registry.rollback",
    method: "post",
    path: "/registry/rollback",
    rule: "write:global",
    summary: "Return a tier to its previous version",
    body: s.rollbackSchema,
    response: s.registryChangeSchema,
    mutates: true,
  },
  {
    id: "registry.pin",
    method: "post",
    path: "/registry/pin",
    rule: "write:global",
    summary: "Pin or unpin a tier (no automatic rollback)",
    body: s.pinSchema,
    response: s.registryChangeSchema,
    mutates: true,
  },
  {
    id: "admin-keys.list",
    method: "get",
    path: "/admin-keys",
    rule: "read:global",
    summary: "Admin credentials (no secrets)",
    response: s.adminKeyListSchema,
  },
  {
    id: "admin-keys.create",
    method: "post",
    path: "/admin-keys",
    rule: "write:global",
    summary: "Create an admin credential (the secret is shown once)",
    body: s.adminKeyCreateSchema,
    response: s.adminKeyWithSecretSchema,
    status: 201,
    mutates: true,
  },
  {
    id: "admin-keys.revoke",
    method: "post",
    path: "/admin-keys/{admin_key_id}/revoke",
    rule: "write:global",
    summary: "Revoke an admin credential",
    params: s.adminKeyParams,
    response: s.adminKeySchema,
    mutates: true,
  },
] as const satisfies readonly AdminRouteSpec[];

export type AdminRouteId = (typeof adminRoutes)[number]["id"];

/** The edge's and the pool's path prefixes of the admin API. */
export const adminPrefix = { edge: "/admin/v1", pool: "/internal/v1/admin" } as const;

/**
 * A pool answer header naming key hashes (comma-separated) whose cached lookups the edge deletes (a
 * revocation, rotation or change). The edge strips it before answering.
 */
export const forgetKeysHeader = "x-tiergate-forget-keys";
