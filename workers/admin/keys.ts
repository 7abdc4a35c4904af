import { and, asc, eq } from "drizzle-orm";
import { GatewayError } from "../../shared/errors.ts";
import { sha256Hex } from "../../shared/signing.ts";
import { createApiKey, ensureTenant, generateApiKey } from "../db/api-keys.ts";
import { type Database, withPostgres } from "../db/client.ts";
import { type ApiKey, apiKeys } from "../db/schema.ts";
import { type Actor, appendAudit } from "./audit.ts";
import { getTenant } from "./tenants.ts";

/** A key as the API and the CLI show it: never its hash or secret. */
export function keyView(row: ApiKey) {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    prefix: row.prefix,
    name: row.name,
    status: row.status,
    rate_limit_per_minute: row.rateLimitPerMinute,
    allowed_models: row.allowedModels,
    cache_ttl_seconds: row.cacheTtlSeconds,
    created_at: row.createdAt.toISOString(),
    revoked_at: row.revokedAt?.toISOString() ?? null,
    expires_at: row.expiresAt?.toISOString() ?? null,
    rotated_at: row.rotatedAt?.toISOString() ?? null,
    previous_key_expires_at: row.previousKeyExpiresAt?.toISOString() ?? null,
  };
}
export type KeyView = ReturnType<typeof keyView>;

/** The settings of a key that can be changed after creation. Undefined: unchanged; null: cleared. */
export interface KeySettings {
  rateLimitPerMinute?: number;
  allowedModels?: string[] | null;
  cacheTtlSeconds?: number | null;
  expiresAt?: Date | null;
}

/** What creates a key. */
export interface NewKey extends KeySettings {
  tenantId: string;
  name: string;
  /** Create the tenant when it does not exist (the CLI's behaviour); else 404. */
  ensureTenant?: boolean;
}

/** Key hashes whose cached lookups the edge must forget (never shown to clients). */
export interface KeyChange<T> {
  result: T;
  forgetHashes: string[];
}

/** Creates a key; the plaintext is in the answer only. Audited (without the secret). */
export async function createKey(db: Database, input: NewKey, actor: Actor) {
  if (input.ensureTenant) await ensureTenant(db, { id: input.tenantId, name: input.tenantId });
  else await getTenant(db, input.tenantId);
  const { key, record } = await createApiKey(db, {
    tenantId: input.tenantId,
    name: input.name,
    ...(input.rateLimitPerMinute === undefined ? {} : { rateLimitPerMinute: input.rateLimitPerMinute }),
    allowedModels: input.allowedModels ?? null,
    cacheTtlSeconds: input.cacheTtlSeconds ?? null,
    expiresAt: input.expiresAt ?? null,
  });
  const view = keyView(record);
  await appendAudit(db, {
    ...actor,
    tenantId: input.tenantId,
    action: "key.create",
    target: record.id,
    after: view,
  });
  return { key, record: view };
}

/** A tenant's keys, oldest first. */
export async function listKeys(db: Database, tenantId: string): Promise<KeyView[]> {
  const rows = await withPostgres(() =>
    db.select().from(apiKeys).where(eq(apiKeys.tenantId, tenantId)).orderBy(asc(apiKeys.createdAt)),
  );
  return rows.map(keyView);
}

async function keyRow(db: Database, tenantId: string, keyId: string): Promise<ApiKey> {
  const [row] = await withPostgres(() =>
    db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.tenantId, tenantId)))
      .limit(1),
  );
  // A key of another tenant is "not found" too: its existence is not disclosed.
  if (!row)
    throw new GatewayError("NOT_FOUND", `Tenant '${tenantId}' has no key '${keyId}'.`, { param: "key_id" });
  return row;
}

/** One key of a tenant; 404 when unknown or another tenant's. */
export async function getKey(db: Database, tenantId: string, keyId: string): Promise<KeyView> {
  return keyView(await keyRow(db, tenantId, keyId));
}

function hashesOf(row: ApiKey): string[] {
  return row.previousKeyHash ? [row.keyHash, row.previousKeyHash] : [row.keyHash];
}

async function updateRow(db: Database, keyId: string, set: Partial<ApiKey>): Promise<ApiKey> {
  const [row] = await withPostgres(() =>
    db.update(apiKeys).set(set).where(eq(apiKeys.id, keyId)).returning(),
  );
  if (!row) throw new GatewayError("NOT_FOUND", `No key '${keyId}'.`, { param: "key_id" });
  return row;
}

/** Changes a key's limits, models or expiry; audited with before and after. */
export async function updateKey(
  db: Database,
  target: { tenantId: string; keyId: string },
  changes: KeySettings,
  actor: Actor,
): Promise<KeyChange<KeyView>> {
  const before = await keyRow(db, target.tenantId, target.keyId);
  const set: Partial<ApiKey> = {};
  if (changes.rateLimitPerMinute !== undefined) set.rateLimitPerMinute = changes.rateLimitPerMinute;
  if (changes.allowedModels !== undefined) set.allowedModels = changes.allowedModels;
  if (changes.cacheTtlSeconds !== undefined) set.cacheTtlSeconds = changes.cacheTtlSeconds;
  if (changes.expiresAt !== undefined) set.expiresAt = changes.expiresAt;
  if (Object.keys(set).length === 0) return { result: keyView(before), forgetHashes: [] };
  const after = await updateRow(db, target.keyId, set);
  await appendAudit(db, {
    ...actor,
    tenantId: target.tenantId,
    action: "key.update",
    target: target.keyId,
    before: keyView(before),
    after: keyView(after),
  });
  return { result: keyView(after), forgetHashes: hashesOf(after) };
}

/** Revokes a key (idempotent); audited. The edge must forget its cached lookups. */
export async function revokeKey(
  db: Database,
  target: { tenantId: string; keyId: string },
  actor: Actor,
): Promise<KeyChange<KeyView>> {
  const before = await keyRow(db, target.tenantId, target.keyId);
  if (before.status === "revoked") return { result: keyView(before), forgetHashes: hashesOf(before) };
  const after = await updateRow(db, target.keyId, { status: "revoked", revokedAt: new Date() });
  await appendAudit(db, {
    ...actor,
    tenantId: target.tenantId,
    action: "key.revoke",
    target: target.keyId,
    before: { status: before.status },
    after: { status: after.status },
  });
  return { result: keyView(after), forgetHashes: hashesOf(after) };
}

/**
 * Gives a key a new secret under the same id (usage stays continuous). The old secret keeps working
 * for `graceSeconds` (0: it stops at once); a second rotation within the grace drops the first old
 * secret. Audited without secrets.
 */
export async function rotateKey(
  db: Database,
  target: { tenantId: string; keyId: string; graceSeconds: number },
  actor: Actor,
): Promise<KeyChange<{ key: string; record: KeyView }>> {
  const before = await keyRow(db, target.tenantId, target.keyId);
  if (before.status !== "active") {
    throw new GatewayError("BAD_REQUEST", "A revoked key cannot be rotated.", { param: "key_id" });
  }
  const key = generateApiKey();
  const now = Date.now();
  const grace = target.graceSeconds > 0;
  const after = await updateRow(db, target.keyId, {
    keyHash: await sha256Hex(key),
    prefix: key.slice(0, 9),
    rotatedAt: new Date(now),
    previousKeyHash: grace ? before.keyHash : null,
    previousKeyExpiresAt: grace ? new Date(now + target.graceSeconds * 1000) : null,
  });
  await appendAudit(db, {
    ...actor,
    tenantId: target.tenantId,
    action: "key.rotate",
    target: target.keyId,
    before: { prefix: before.prefix },
    after: { prefix: after.prefix, grace_seconds: target.graceSeconds },
  });
  return { result: { key, record: keyView(after) }, forgetHashes: hashesOf(before) };
}

/**
 * Revokes a key known only by its id (the CLI's `revoke <key id>`); null when there is no such key.
 * `revoked` is false when it was revoked already.
 */
export async function revokeKeyById(db: Database, keyId: string, actor: Actor) {
  const [row] = await withPostgres(() => db.select().from(apiKeys).where(eq(apiKeys.id, keyId)).limit(1));
  if (!row) return null;
  const done = await revokeKey(db, { tenantId: row.tenantId, keyId }, actor);
  return { revoked: row.status === "active", forgetHashes: done.forgetHashes };
}
