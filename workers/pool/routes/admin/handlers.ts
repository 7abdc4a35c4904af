import type { Context } from "hono";
import type { AdminPrincipal } from "../../../../shared/admin/rbac.ts";
import type { AdminRouteId } from "../../../../shared/admin/routes.ts";
import * as s from "../../../../shared/schemas/admin.ts";
import { parseOrThrow } from "../../../../shared/validation.ts";
import { createAdminKey, listAdminKeys, revokeAdminKey } from "../../../admin/admin-keys.ts";
import { type Actor, listAudit } from "../../../admin/audit.ts";
import { createKey, getKey, listKeys, revokeKey, rotateKey, updateKey } from "../../../admin/keys.ts";
import { RegistryAdmin } from "../../../admin/registry.ts";
import { createTenant, getTenant, listTenants } from "../../../admin/tenants.ts";
import { queryUsage, usageQueryFrom } from "../../../admin/usage.ts";
import type { PoolHonoEnv } from "../../types.ts";

/** One admin call, authenticated and authorised: who, and its raw inputs (each handler parses its own). */
export interface AdminCall {
  c: Context<PoolHonoEnv>;
  principal: AdminPrincipal;
  actor: Actor;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
}

/** A handler's answer; `forgetHashes` are key hashes whose cached lookups the edge drops. */
export interface AdminAnswer {
  body: unknown;
  forgetHashes?: string[];
}

type Handler = (call: AdminCall) => Promise<AdminAnswer>;

const db = (call: AdminCall) => call.c.var.services.database.db;

function registry(call: AdminCall): RegistryAdmin {
  const { routing } = call.c.var.services;
  return new RegistryAdmin(db(call), {
    promote: (change) => routing.promote(change),
    rollback: (tier, reason, actor) => routing.rollback(tier, reason, actor),
  });
}

function keyTarget(call: AdminCall) {
  const params = parseOrThrow(s.keyParams, call.params);
  return { tenantId: params.tenant, keyId: params.key_id };
}

function expiry(body: { expires_at?: string | null | undefined; expires_in_seconds?: number | undefined }) {
  if (body.expires_in_seconds !== undefined) return new Date(Date.now() + body.expires_in_seconds * 1000);
  if (body.expires_at === undefined) return undefined;
  return body.expires_at === null ? null : new Date(body.expires_at);
}

function keySettings(body: s.KeySettingsBody) {
  const expiresAt = expiry(body);
  return {
    ...(body.rate_limit_per_minute === undefined ? {} : { rateLimitPerMinute: body.rate_limit_per_minute }),
    ...(body.allowed_models === undefined ? {} : { allowedModels: body.allowed_models }),
    ...(body.cache_ttl_seconds === undefined ? {} : { cacheTtlSeconds: body.cache_ttl_seconds }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

const tenantOf = (call: AdminCall) => parseOrThrow(s.tenantParams, call.params).tenant;

/** Every admin route's work, by route id (the route table is shared/admin/routes.ts). */
export const adminHandlers: Record<AdminRouteId, Handler> = {
  whoami: async ({ principal }) => ({
    body: { id: principal.id, name: principal.name, role: principal.role, tenant_id: principal.tenantId },
  }),
  "tenants.list": async (call) => ({ body: { data: await listTenants(db(call)) } }),
  "tenants.create": async (call) => ({
    body: await createTenant(db(call), parseOrThrow(s.tenantCreateSchema, call.body), call.actor),
  }),
  "tenants.get": async (call) => ({ body: await getTenant(db(call), tenantOf(call)) }),
  "keys.list": async (call) => {
    const tenant = tenantOf(call);
    await getTenant(db(call), tenant);
    return { body: { data: await listKeys(db(call), tenant) } };
  },
  "keys.create": async (call) => {
    const body = parseOrThrow(s.keyCreateSchema, call.body);
    const input = { tenantId: tenantOf(call), name: body.name, ...keySettings(body) };
    return { body: await createKey(db(call), input, call.actor) };
  },
  "keys.get": async (call) => {
    const { tenantId, keyId } = keyTarget(call);
    return { body: await getKey(db(call), tenantId, keyId) };
  },
  "keys.update": async (call) => {
    const changes = keySettings(parseOrThrow(s.keyUpdateSchema, call.body));
    const done = await updateKey(db(call), keyTarget(call), changes, call.actor);
    return { body: done.result, forgetHashes: done.forgetHashes };
  },
  "keys.revoke": async (call) => {
    const done = await revokeKey(db(call), keyTarget(call), call.actor);
    return { body: done.result, forgetHashes: done.forgetHashes };
  },
  "keys.rotate": async (call) => {
    const { grace_seconds } = parseOrThrow(s.keyRotateSchema, call.body ?? {});
    const done = await rotateKey(db(call), { ...keyTarget(call), graceSeconds: grace_seconds }, call.actor);
    return { body: done.result, forgetHashes: done.forgetHashes };
  },
  "usage.tenant": async (call) => {
    const query = usageQueryFrom(parseOrThrow(s.usageQuerySchema, call.query), tenantOf(call));
    return { body: await queryUsage(call.c.var.services.clickhouse, query) };
  },
  "usage.all": async (call) => {
    const query = usageQueryFrom(parseOrThrow(s.usageQuerySchema, call.query), undefined);
    return { body: await queryUsage(call.c.var.services.clickhouse, query) };
  },
  "payloads.tenant": async (call) => {
    const q = parseOrThrow(s.payloadQuerySchema, call.query);
    const rows = await call.c.var.services.payloadLog.list(tenantOf(call), {
      limit: q.limit,
      ...(q.request_id ? { requestId: q.request_id } : {}),
    });
    return { body: { data: rows } };
  },
  "audit.tenant": async (call) => {
    const q = parseOrThrow(s.auditQuerySchema, call.query);
    const page = {
      tenant: tenantOf(call),
      limit: q.limit,
      ...(q.before_id ? { beforeId: q.before_id } : {}),
    };
    return { body: { data: await listAudit(db(call), page) } };
  },
  "audit.all": async (call) => {
    const q = parseOrThrow(s.auditQuerySchema, call.query);
    return {
      body: {
        data: await listAudit(db(call), {
          limit: q.limit,
          ...(q.before_id ? { beforeId: q.before_id } : {}),
        }),
      },
    };
  },
  "registry.list": async (call) => ({
    body: {
      source: call.c.var.services.routing.router.routingTable.source,
      versions: await registry(call).list(),
    },
  }),
  "registry.promote": async (call) => ({
    body: await registry(call).promote(parseOrThrow(s.promoteSchema, call.body), call.actor),
  }),
  "registry.rollback": async (call) => ({
    body: await registry(call).rollback(parseOrThrow(s.rollbackSchema, call.body), call.actor),
  }),
  "registry.pin": async (call) => ({
    body: await registry(call).pin(parseOrThrow(s.pinSchema, call.body), call.actor),
  }),
  "admin-keys.list": async (call) => ({ body: { data: await listAdminKeys(db(call)) } }),
  "admin-keys.create": async (call) => {
    const body = parseOrThrow(s.adminKeyCreateSchema, call.body);
    const input = {
      name: body.name,
      role: body.role,
      tenantId: body.tenant_id ?? null,
      ...(body.expires_in_seconds ? { expiresInSeconds: body.expires_in_seconds } : {}),
    };
    return { body: await createAdminKey(db(call), input, call.actor) };
  },
  "admin-keys.revoke": async (call) => {
    const { admin_key_id } = parseOrThrow(s.adminKeyParams, call.params);
    return { body: await revokeAdminKey(db(call), admin_key_id, call.actor) };
  },
};
