import { createApiKey, ensureTenant } from "../../workers/db/api-keys.ts";
import { createDatabase } from "../../workers/db/client.ts";
import { PostgresBudgetStore } from "../../workers/spend/budget-store.ts";
import { localPoolEnv } from "../stack/local-env.ts";

/**
 * A bench key with every spend check on and never reached: hard USD and token budgets per day (key and
 * tenant) and a tokens-per-minute limit, so each miss reserves and settles on four counters.
 */
export async function createMeteredBenchKey(tenantId: string): Promise<string> {
  const env = localPoolEnv();
  const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    await ensureTenant(database.db, { id: tenantId, name: `benchmark ${tenantId}` });
    const { key, record } = await createApiKey(database.db, {
      tenantId,
      name: "bench-metered",
      rateLimitPerMinute: 100_000_000,
    });
    const store = new PostgresBudgetStore(database.db);
    const common = { tenantId, period: "day", mode: "hard" } as const;
    await store.setBudget({ ...common, keyId: record.id, metric: "usd", limit: 1e6 });
    await store.setBudget({ ...common, keyId: record.id, metric: "tokens", limit: 1e12 });
    await store.setBudget({ ...common, metric: "usd", limit: 1e6 });
    await store.setSettings({ tenantId, keyId: record.id, tokensPerMinute: 2_000_000_000 });
    return key;
  } finally {
    await database.close();
  }
}
