import { describe, expect, it } from "vitest";
import { createApiKey, ensureTenant } from "../../../workers/db/api-keys.ts";
import { PostgresKeyStore } from "../../../workers/db/key-store.ts";
import { ResponseDataSettingsService } from "../../../workers/semantic-cache/settings.ts";
import { uniqueId, useLocalDatabase } from "../db/local-db.ts";

describe("semantic cache and payload logging settings in Postgres", () => {
  const handle = useLocalDatabase();

  it("are off by default, follow the tenant default, and a key's override wins", async () => {
    const { db } = handle();
    const tenantId = uniqueId("semcache_settings");
    await ensureTenant(db, { id: tenantId, name: tenantId });
    const { key, record } = await createApiKey(db, { tenantId, name: "a" });
    const other = await createApiKey(db, { tenantId, name: "b" });
    const keys = new PostgresKeyStore(db);
    const service = new ResponseDataSettingsService(db);
    const hash = async (k: string) =>
      Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(k))).toString("hex");

    expect(await keys.findByHash(await hash(key))).toMatchObject({
      semanticCache: { enabled: false, threshold: null },
      payloadLogging: { enabled: false, retentionDays: null },
    });

    await service.change({ tenantId, semanticCacheEnabled: true, payloadLogRetentionDays: 7 });
    await service.change({
      tenantId,
      keyId: record.id,
      semanticCacheThreshold: 0.95,
      payloadLoggingEnabled: true,
    });
    expect(await keys.findByHash(await hash(key))).toMatchObject({
      semanticCache: { enabled: true, threshold: 0.95 },
      payloadLogging: { enabled: true, retentionDays: 7 },
    });
    expect(await keys.findByHash(await hash(other.key))).toMatchObject({
      semanticCache: { enabled: true, threshold: null },
      payloadLogging: { enabled: false, retentionDays: 7 },
    });

    await service.change({ tenantId, keyId: record.id, semanticCacheEnabled: false });
    expect((await service.effective(tenantId, record.id)).semanticCache.enabled).toBe(false);
    await service.change({ tenantId, keyId: record.id, semanticCacheEnabled: null });
    expect((await service.effective(tenantId, record.id)).semanticCache.enabled).toBe(true);
  });
});
