import { Redis } from "@upstash/redis";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { keyCacheEntry } from "../../../shared/schemas/keys.ts";
import { sha256Hex } from "../../../shared/signing.ts";
import {
  createApiKey,
  ensureTenant,
  findActiveKeyByHash,
  listApiKeys,
  revokeApiKey,
  revokeApiKeyEverywhere,
} from "../../../workers/db/api-keys.ts";
import { createDatabase, type DatabaseHandle, withPostgres } from "../../../workers/db/client.ts";
import { upstashKeyLookupCache } from "../../../workers/lib/edge-key-cache.ts";
import { localEdgeEnv } from "../../stack/local-env.ts";
import { upstashBridgeService } from "../../stack/services/redis.ts";
import { ensureLocalDatabase, localDbConfig, uniqueId, useLocalDatabase } from "./local-db.ts";

describe("API keys in Postgres", () => {
  const database = useLocalDatabase();

  it("creates a key, finds it by hash, revokes it, and then no longer finds it", async () => {
    const tenant = await ensureTenant(database().db, { id: uniqueId("tenant"), name: "Acme" });
    const { key, record } = await createApiKey(database().db, {
      tenantId: tenant.id,
      name: "ci",
      rateLimitPerMinute: 120,
      allowedModels: ["small", "large"],
    });

    expect(key).toMatch(/^tg_[0-9A-Za-z]{32}$/);
    expect(record.keyHash).toBe(await sha256Hex(key));
    expect(record.keyHash).not.toContain(key.slice(3));
    expect(key.startsWith(record.prefix)).toBe(true);

    const found = await findActiveKeyByHash(database().db, await sha256Hex(key));
    expect(found).toMatchObject({
      id: record.id,
      tenantId: tenant.id,
      status: "active",
      rateLimitPerMinute: 120,
      allowedModels: ["small", "large"],
      cacheTtlSeconds: null,
    });

    expect(await revokeApiKey(database().db, record.id)).toBe(true);
    expect(await revokeApiKey(database().db, record.id)).toBe(false);
    expect(await findActiveKeyByHash(database().db, record.keyHash)).toBeUndefined();

    const listed = await listApiKeys(database().db, tenant.id);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: record.id, status: "revoked" });
    expect(listed[0]?.revokedAt).toBeInstanceOf(Date);
    expect(listed[0]).not.toHaveProperty("keyHash");
  });

  it("does not find an unknown key and defaults allowed models to all (null)", async () => {
    const tenant = await ensureTenant(database().db, { id: uniqueId("tenant"), name: "Beta" });
    expect(await ensureTenant(database().db, { id: tenant.id, name: "renamed" })).toMatchObject({
      name: "Beta",
    });
    const { record } = await createApiKey(database().db, { tenantId: tenant.id, name: "default" });
    expect(record).toMatchObject({ allowedModels: null, rateLimitPerMinute: 60, status: "active" });
    expect(await findActiveKeyByHash(database().db, await sha256Hex("tg_not-a-real-key"))).toBeUndefined();
  });

  it("reports a key for an unknown tenant as a non-retryable DependencyError (SQL error)", async () => {
    const error = await createApiKey(database().db, { tenantId: uniqueId("missing"), name: "x" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ dependency: "postgres", retryable: false });
    expect((error as Error).message).toContain("23503");
  });
});

describe("revocation and the edge's key cache", () => {
  let handle: DatabaseHandle;
  const env = localEdgeEnv();
  const redis = new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });

  beforeAll(async () => {
    await ensureLocalDatabase();
    await upstashBridgeService.start();
    handle = createDatabase(localDbConfig);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("revoking a key deletes the edge's cached lookup in Redis", async () => {
    const tenant = await ensureTenant(handle.db, { id: uniqueId("tenant"), name: "Revoker" });
    const { record } = await createApiKey(handle.db, { tenantId: tenant.id, name: "ci" });
    const entry = keyCacheEntry(record.keyHash);
    await redis.set(entry, JSON.stringify({ keyId: record.id, tenantId: tenant.id, status: "active" }), {
      ex: 30,
    });
    const cache = upstashKeyLookupCache(env.UPSTASH_REDIS_REST_URL, env.UPSTASH_REDIS_REST_TOKEN);
    expect(await revokeApiKeyEverywhere(handle.db, record.id, cache)).toBe(true);
    expect(await redis.exists(entry)).toBe(0);
    expect(await findActiveKeyByHash(handle.db, record.keyHash)).toBeUndefined();
  });
});

describe("Postgres statement timeout", () => {
  it("cancels a statement that runs past it, as a retryable DependencyError", async () => {
    await ensureLocalDatabase();
    const slow = createDatabase({ ...localDbConfig, statementTimeoutMs: 300 });
    try {
      const shown = await slow.pool.query("show statement_timeout");
      expect(shown.rows[0]).toEqual({ statement_timeout: "300ms" });
      const error = await withPostgres(() => slow.db.execute(sql`select pg_sleep(5)`)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DependencyError);
      expect(error).toMatchObject({ dependency: "postgres", retryable: true });
      expect(String((error as Error).message)).toContain("57014");
    } finally {
      await slow.close();
    }
  });

  it("defaults to 10 s", async () => {
    const handle = createDatabase(localDbConfig);
    try {
      const shown = await handle.pool.query("show statement_timeout");
      expect(shown.rows[0]).toEqual({ statement_timeout: "10s" });
    } finally {
      await handle.close();
    }
  });
});
