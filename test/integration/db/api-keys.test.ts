import { describe, expect, it } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { sha256Hex } from "../../../shared/signing.ts";
import {
  createApiKey,
  ensureTenant,
  findActiveKeyByHash,
  listApiKeys,
  revokeApiKey,
} from "../../../workers/db/api-keys.ts";
import { uniqueId, useLocalDatabase } from "./local-db.ts";

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
