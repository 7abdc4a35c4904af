import { and, asc, eq, getTableColumns } from "drizzle-orm";
import { sha256Hex } from "../../shared/signing.ts";
import { type Database, withPostgres } from "./client.ts";
import { type ApiKey, apiKeys, type Tenant, tenants } from "./schema.ts";

// Web Crypto only (crypto.subtle / getRandomValues / randomUUID): the same code runs in Bun, Node and workerd.

const keyPrefix = "tg_";
const keyRandomLength = 32;
const displayPrefixLength = keyPrefix.length + 6;
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A new plaintext key: `tg_` + 32 random base62 characters (~190 bits), i.e. `apiKeyPattern`. */
export function generateApiKey(): string {
  let out = keyPrefix;
  while (out.length < keyPrefix.length + keyRandomLength) {
    for (const byte of crypto.getRandomValues(new Uint8Array(48))) {
      // 248 = 4 * 62: rejecting larger bytes keeps every character equally likely.
      if (byte < 248 && out.length < keyPrefix.length + keyRandomLength) out += base62[byte % 62];
    }
  }
  return out;
}

/** Creates the tenant if it does not exist yet; returns the stored row. */
export async function ensureTenant(db: Database, tenant: { id: string; name: string }): Promise<Tenant> {
  return withPostgres(async () => {
    await db.insert(tenants).values(tenant).onConflictDoNothing({ target: tenants.id });
    const [row] = await db.select().from(tenants).where(eq(tenants.id, tenant.id));
    if (!row) throw new Error(`tenant ${tenant.id} vanished right after insert`);
    return row;
  });
}

export interface CreateApiKeyInput {
  tenantId: string;
  name: string;
  rateLimitPerMinute?: number;
  /** Null or absent: every model. */
  allowedModels?: string[] | null;
  /** Null or absent: the gateway's default. */
  cacheTtlSeconds?: number | null;
  /** Null or absent: never expires. */
  expiresAt?: Date | null;
}

/** A key record without its hash, for listings. */
export type ApiKeySummary = Omit<ApiKey, "keyHash" | "previousKeyHash">;

/** Creates a key. The plaintext `key` is returned only here; the database keeps its SHA-256. */
export async function createApiKey(
  db: Database,
  input: CreateApiKeyInput,
): Promise<{ key: string; record: ApiKey }> {
  const key = generateApiKey();
  // `api_keys.key_hash` is the key's SHA-256 as lowercase hex, as the edge computes it to look a key up.
  const keyHash = await sha256Hex(key);
  const [record] = await withPostgres(() =>
    db
      .insert(apiKeys)
      .values({
        id: `key_${crypto.randomUUID().replaceAll("-", "")}`,
        tenantId: input.tenantId,
        keyHash,
        prefix: key.slice(0, displayPrefixLength),
        name: input.name,
        rateLimitPerMinute: input.rateLimitPerMinute,
        allowedModels: input.allowedModels ?? null,
        cacheTtlSeconds: input.cacheTtlSeconds ?? null,
        expiresAt: input.expiresAt ?? null,
      })
      .returning(),
  );
  if (!record) throw new Error("insert into api_keys returned no row");
  return { key, record };
}

/** The active key with this hash, or undefined (unknown or revoked). */
export async function findActiveKeyByHash(db: Database, keyHash: string): Promise<ApiKey | undefined> {
  const [row] = await withPostgres(() =>
    db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, keyHash), eq(apiKeys.status, "active")))
      .limit(1),
  );
  return row;
}

/** Revokes a key; true when it was active until now. */
export async function revokeApiKey(db: Database, keyId: string): Promise<boolean> {
  const rows = await withPostgres(() =>
    db
      .update(apiKeys)
      .set({ status: "revoked", revokedAt: new Date() })
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.status, "active")))
      .returning({ id: apiKeys.id }),
  );
  return rows.length > 0;
}

/** Where the edge caches key lookups; revocation deletes the key's entry there. */
export interface KeyLookupCache {
  /** Deletes the cached lookup of `keyHash`. May throw (the revocation itself stands). */
  forget(keyHash: string): Promise<void>;
}

/**
 * Revokes a key and deletes the edge's cached lookup of it, so the edge asks Postgres again at once
 * (an isolate's own copy lives at most as long as the Redis entry had left). True when it was active.
 */
export async function revokeApiKeyEverywhere(
  db: Database,
  keyId: string,
  cache: KeyLookupCache,
): Promise<boolean> {
  const revoked = await revokeApiKey(db, keyId);
  const [row] = await withPostgres(() =>
    db.select({ keyHash: apiKeys.keyHash }).from(apiKeys).where(eq(apiKeys.id, keyId)).limit(1),
  );
  if (row) await cache.forget(row.keyHash);
  return revoked;
}

/** A tenant's keys (active and revoked), oldest first, without hashes. */
export async function listApiKeys(db: Database, tenantId: string): Promise<ApiKeySummary[]> {
  const { keyHash: _omitted, previousKeyHash: _previous, ...columns } = getTableColumns(apiKeys);
  return withPostgres(() =>
    db.select(columns).from(apiKeys).where(eq(apiKeys.tenantId, tenantId)).orderBy(asc(apiKeys.createdAt)),
  );
}
