import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../../shared/signing.ts";
import { createApiKey, ensureTenant, findActiveKeyByHash } from "../../workers/db/api-keys.ts";
import { createDatabase } from "../../workers/db/client.ts";
import { defaultTenant } from "../../workers/scripts/lib/script-env.ts";
import { localPoolEnv } from "./local-env.ts";
import { stackDir } from "./paths.ts";

export const devKeyFile = join(stackDir, "dev-api-key");

/**
 * Returns the development API key, creating its tenant (the scripts' default tenant, `dev`) and a key on
 * first use (kept in .stack/dev-api-key).
 */
export async function ensureDevApiKey(): Promise<string> {
  const env = localPoolEnv();
  const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    if (existsSync(devKeyFile)) {
      const existing = readFileSync(devKeyFile, "utf8").trim();
      if (await findActiveKeyByHash(database.db, await sha256Hex(existing))) return existing;
    }
    await ensureTenant(database.db, { id: defaultTenant, name: "Local development" });
    const { key } = await createApiKey(database.db, { tenantId: defaultTenant, name: "dev key (npm start)" });
    writeFileSync(devKeyFile, `${key}\n`, { mode: 0o600 });
    return key;
  } finally {
    await database.close();
  }
}

/** A fresh key for a test tenant; tests use one tenant each so they never share cache entries. */
export async function createTestApiKey(
  tenantId: string,
  options: {
    allowedModels?: string[] | null;
    cacheTtlSeconds?: number | null;
    rateLimitPerMinute?: number;
  } = {},
): Promise<{ key: string; keyId: string }> {
  const env = localPoolEnv();
  const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    await ensureTenant(database.db, { id: tenantId, name: `test ${tenantId}` });
    const { key, record } = await createApiKey(database.db, { tenantId, name: "test", ...options });
    return { key, keyId: record.id };
  } finally {
    await database.close();
  }
}
