import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { budgetCounterKey, periodOf } from "../../../shared/schemas/spend.ts";
import { insertEvents } from "../../../workers/clickhouse/events.ts";
import { PostgresBudgetStore } from "../../../workers/spend/budget-store.ts";
import { reconcileBudgets, upstashCounterStore } from "../../../workers/spend/reconcile.ts";
import { localEdgeEnv } from "../../stack/local-env.ts";
import { migrateAll } from "../../stack/migrate.ts";
import { localSecrets } from "../../stack/ports.ts";
import {
  dropDatabase,
  localClient,
  migrateScratchDatabase,
  sampleEvent,
  scratchDatabase,
} from "../clickhouse/local-clickhouse.ts";
import { edgeRedis, stackDatabase } from "./harness.ts";

const scratch = scratchDatabase("reconcile");
const clickhouse = localClient(scratch);
const database = stackDatabase();
const counters = upstashCounterStore(localEdgeEnv().UPSTASH_REDIS_REST_URL, localSecrets.upstashToken);

beforeAll(async () => {
  await migrateAll();
  await migrateScratchDatabase(scratch);
}, 120_000);

afterAll(async () => {
  await clickhouse.close();
  await dropDatabase(scratch);
  await database.close();
});

describe("budget counters reconciled from ClickHouse", () => {
  it("raises a lost counter to the recorded spend and never lowers a higher one", async () => {
    const tenant = `reconcile-${Date.now().toString(36)}`;
    const store = new PostgresBudgetStore(database.db);
    const usd = await store.setBudget({
      tenantId: tenant,
      metric: "usd",
      period: "day",
      limit: 10,
      mode: "hard",
    });
    const tokens = await store.setBudget({
      tenantId: tenant,
      keyId: "key_x",
      metric: "tokens",
      period: "month",
      limit: 1e6,
      mode: "hard",
    });
    await insertEvents(clickhouse, [
      sampleEvent({ tenant, key_id: "key_x", cost_usd: 0.25, prompt_tokens: 100, completion_tokens: 20 }),
      sampleEvent({ tenant, key_id: "key_y", cost_usd: 0.5, prompt_tokens: 10, completion_tokens: 5 }),
    ]);
    const now = Date.now();
    const usdKey = budgetCounterKey(
      { tenantId: tenant, keyId: "" },
      { scope: "tenant", metric: "usd", period: "day" },
      periodOf("day", now).start,
    );
    const tokenKey = budgetCounterKey(
      { tenantId: tenant, keyId: "key_x" },
      { scope: "key", metric: "tokens", period: "month" },
      periodOf("month", now).start,
    );
    await edgeRedis.set(tokenKey, "5000");
    const done = await reconcileBudgets({ clickhouse, counters }, [usd, tokens], now);
    expect(done.find((r) => r.budgetId === usd.id)).toMatchObject({ recorded: 0.75, counter: 750_000_000 });
    expect(done.find((r) => r.budgetId === tokens.id)).toMatchObject({ recorded: 120, counter: 5000 });
    expect(Number(await edgeRedis.get<string>(usdKey))).toBe(750_000_000);
    expect(Number(await edgeRedis.get<string>(tokenKey))).toBe(5000);
  });
});
