// The OpenAPI extension of zod first: schemas built before it (shared/schemas/chat.ts) lack `.openapi`.
import "@hono/zod-openapi";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { budgetCounterKey, periodOf } from "../../../edge/services/spend-plan.ts";
import type { RequestEvent } from "../../../shared/events.ts";
import { chatCompletionRequestBodySchema } from "../../../shared/schemas/chat.ts";
import { insertEvents } from "../../../workers/clickhouse/events.ts";
import { budgetAlerts } from "../../../workers/db/schema.ts";
import { PostgresBudgetStore } from "../../../workers/spend/budget-store.ts";
import { costUsd, setPrice } from "../../../workers/spend/prices.ts";
import { querySpend } from "../../../workers/spend/query.ts";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { migrateAll } from "../../stack/migrate.ts";
import {
  dropDatabase,
  localClient,
  migrateScratchDatabase,
  scratchDatabase,
} from "../clickhouse/local-clickhouse.ts";
import { startTestPool, type TestPool } from "../router/pool-harness.ts";
import { edgeFor, edgeRedis, eventually, stackDatabase, watchEvents } from "./harness.ts";

const run = Date.now().toString(36);
const database = stackDatabase();
const budgets = new PostgresBudgetStore(database.db);
const scratch = scratchDatabase("spend");
const clickhouse = localClient(scratch);
/** Distinct prices per tier (USD per million tokens), effective from now on. */
const prices = {
  small: { input: 1.5, output: 3, cached: 0.5 },
  medium: { input: 2.5, output: 4, cached: 1 },
  large: { input: 3.5, output: 5, cached: 1.5 },
};
let pool: TestPool;
let edge: ReturnType<typeof edgeFor>;
let webhook: Server;
const webhookCalls: unknown[] = [];

beforeAll(async () => {
  await migrateAll();
  await migrateScratchDatabase(scratch);
  for (const [tier, price] of Object.entries(prices)) {
    await setPrice(database.db, { tier, version: `tiergate-${tier}@1`, price, actor: "spend-test" });
  }
  pool = await startTestPool(18_517, {
    REGISTRY_SOURCE: "env",
    ROUTER_CLASSIFIER: "heuristic",
    PRICE_REFRESH_MS: "300",
  });
  edge = edgeFor(pool.url);
  webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      webhookCalls.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
}, 120_000);

afterAll(async () => {
  await pool?.stop();
  webhook?.close();
  await clickhouse.close();
  await dropDatabase(scratch);
  await database.close();
});

// Token-minute counters are per UTC minute: a test starts at least 15 s before the minute ends.
beforeEach(async () => {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}, 20_000);

const chatBody = (content: string, extra: Record<string, unknown> = {}) => ({
  model: "small",
  temperature: 0,
  max_tokens: 6,
  messages: [{ role: "user", content }],
  ...extra,
});

function chat(key: string, body: unknown, headers: Record<string, string> = {}) {
  return edge.request("/v1/chat/completions", {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      "x-tiergate-cache": "bypass",
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

/** Tokens the edge reserves for a request: its UTF-8 bytes as the route validated it, plus max_tokens. */
function reservedTokens(body: ReturnType<typeof chatBody>): number {
  const parsed = chatCompletionRequestBodySchema.parse(body);
  return new TextEncoder().encode(JSON.stringify(parsed)).length + body.max_tokens;
}

async function counter(key: string): Promise<number> {
  return Number((await edgeRedis.get<string>(key)) ?? 0);
}

describe("cost per request, end to end through the local model server", () => {
  it("records the registry's price in the answer, the event and the spend rollup", async () => {
    const tenant = `spend-cost-${run}`;
    const { key, keyId } = await createTestApiKey(tenant);
    const events = await watchEvents(tenant);
    try {
      const response = await chat(key, chatBody(`Say hello. ${run}`));
      expect(response.status).toBe(200);
      const completion = (await response.json()) as {
        usage: { prompt_tokens: number; completion_tokens: number };
      };
      expect(response.headers.get("x-tiergate-tier")).toBe("small");
      const expected = costUsd(prices.small, {
        promptTokens: completion.usage.prompt_tokens,
        completionTokens: completion.usage.completion_tokens,
        cachedTokens: 0,
      });
      expect(expected).toBeGreaterThan(0);
      expect(Number(response.headers.get("x-tiergate-cost-usd"))).toBeCloseTo(expected, 12);

      const event: RequestEvent = await events.event(response.headers.get("x-request-id") ?? "");
      expect(event).toMatchObject({ key_id: keyId, tier: "small", usage_source: "usage" });
      expect(event.cost_usd).toBeCloseTo(expected, 12);

      // The production insert, into a scratch database: the rollup per tenant, key, model and day.
      await insertEvents(clickhouse, [event]);
      const day = new Date(event.ts).toISOString().slice(0, 10);
      const rows = await querySpend(clickhouse, {
        tenant,
        from: day,
        to: day,
        groupBy: ["tenant", "key", "model"],
        byDay: true,
      });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ tenant, key_id: keyId, model: "tiergate-small@1", day, requests: 1 });
      expect(rows[0]?.cost_usd).toBeCloseTo(expected, 12);
    } finally {
      await events.close();
    }
  }, 90_000);
});

describe("budgets at the edge", () => {
  it("refuses with budget_exceeded once a tiny hard budget is spent", async () => {
    const tenant = `spend-hard-${run}`;
    const { key, keyId } = await createTestApiKey(tenant);
    const body = chatBody(`Count to three. ${run}`);
    const reserve = reservedTokens(body);
    // Room for one reservation, and not for a second once the first request's real tokens are counted.
    const limit = reserve + 3;
    await budgets.setBudget({
      tenantId: tenant,
      keyId,
      metric: "tokens",
      period: "day",
      limit,
      mode: "hard",
    });

    const first = await chat(key, body);
    expect(first.status).toBe(200);
    const billed = Number(first.headers.get("x-tiergate-billed-tokens"));
    expect(billed).toBeGreaterThan(3);
    const counterKey = budgetCounterKey(
      { tenantId: tenant, keyId },
      { scope: "key", metric: "tokens", period: "day" },
      periodOf("day", Date.now()).start,
    );
    await eventually(async () => ((await counter(counterKey)) === billed ? true : undefined), 10_000);

    const second = await chat(key, body);
    expect(second.status).toBe(429);
    const error = ((await second.json()) as { error: { type: string; code: string; message: string } }).error;
    expect(error.type).toBe("insufficient_quota");
    expect(error.code).toBe("budget_exceeded");
    expect(error.message).toContain(`${limit} tokens per day`);
    expect(await counter(counterKey)).toBe(billed);
  }, 90_000);

  it("lets no more than a hard budget's worth through when 200 requests arrive at once", async () => {
    const tenant = `spend-burst-${run}`;
    const { key, keyId } = await createTestApiKey(tenant);
    const body = chatBody(`Name a colour. ${run}`, { max_tokens: 2 });
    const reserve = reservedTokens(body);
    const limit = reserve * 3;
    await budgets.setBudget({
      tenantId: tenant,
      keyId,
      metric: "tokens",
      period: "day",
      limit,
      mode: "hard",
    });
    // Warm the key caches, so that all 200 requests race on the budget only.
    const warm = await chat(key, { ...body, max_tokens: 1 });
    expect(warm.status).toBe(200);
    const warmBilled = Number(warm.headers.get("x-tiergate-billed-tokens"));

    const answers = await Promise.all(Array.from({ length: 200 }, () => chat(key, body)));
    const statuses = answers.map((a) => a.status);
    const passed = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 429).length;
    expect(passed + refused, `statuses ${JSON.stringify(statuses.filter((x) => x !== 429))}`).toBe(200);
    expect(passed).toBeGreaterThanOrEqual(1);
    expect(passed).toBeLessThanOrEqual(3);
    const counterKey = budgetCounterKey(
      { tenantId: tenant, keyId },
      { scope: "key", metric: "tokens", period: "day" },
      periodOf("day", Date.now()).start,
    );
    // Settled: the counter holds exactly what the answers cost, every reservation replaced.
    const billed = answers
      .filter((a) => a.status === 200)
      .reduce((sum, a) => sum + Number(a.headers.get("x-tiergate-billed-tokens")), warmBilled);
    let last = 0;
    const spent = await eventually(async () => {
      last = await counter(counterKey);
      return last === billed ? last : undefined;
    }, 20_000).catch(() => {
      throw new Error(`counter stayed at ${last}, billed ${billed} (reserve ${reserve}, limit ${limit})`);
    });
    expect(spent).toBeLessThanOrEqual(limit);
    for (const a of answers) await a.body?.cancel();
  }, 180_000);

  it("writes a soft budget's alert once and calls its webhook", async () => {
    const tenant = `spend-soft-${run}`;
    const { key } = await createTestApiKey(tenant);
    const url = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
    const budget = await budgets.setBudget({
      tenantId: tenant,
      metric: "usd",
      period: "month",
      limit: 0.000001,
      mode: "soft",
      webhookUrl: url,
    });
    expect((await chat(key, chatBody(`Say yes. ${run}`))).status).toBe(200);
    const call = await eventually(async () =>
      webhookCalls.find((c) => (c as { budget_id?: string }).budget_id === budget.id),
    );
    expect(call).toMatchObject({ tenant, metric: "usd", period: "month", limit: 0.000001 });
    const rows = await eventually(async () => {
      const found = await database.db.select().from(budgetAlerts).where(eq(budgetAlerts.budgetId, budget.id));
      return found[0]?.webhookStatus === 204 ? found : undefined;
    });
    expect(rows).toHaveLength(1);
    // Soft: the next request still passes, and the alert is not written twice.
    expect((await chat(key, chatBody(`Say no. ${run}`))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await database.db.select().from(budgetAlerts).where(eq(budgetAlerts.budgetId, budget.id));
    expect(after).toHaveLength(1);
    expect(webhookCalls.filter((c) => (c as { budget_id?: string }).budget_id === budget.id)).toHaveLength(1);
  }, 90_000);
});

describe("tokens per minute", () => {
  it("sends OpenAI's token headers and refuses past the limit with rate_limit_exceeded", async () => {
    const tenant = `spend-tpm-${run}`;
    const { key, keyId } = await createTestApiKey(tenant);
    const body = chatBody(`Say ok. ${run}`);
    const reserve = reservedTokens(body);
    const tpm = reserve + 3;
    await budgets.setSettings({ tenantId: tenant, keyId, tokensPerMinute: tpm });

    const first = await chat(key, body);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe(String(tpm));
    expect(first.headers.get("x-ratelimit-remaining-tokens")).toBe(String(tpm - reserve));
    expect(first.headers.get("x-ratelimit-reset-tokens")).toMatch(/^(\d+ms|\d+s|\d+m\d+s)$/);
    const billed = Number(first.headers.get("x-tiergate-billed-tokens"));
    const minute = Math.floor(Date.now() / 60_000);
    await eventually(async () =>
      (await counter(`tg:tpm:${keyId}:${minute}`)) === billed ? true : undefined,
    );

    const second = await chat(key, body);
    expect(second.status).toBe(429);
    const error = ((await second.json()) as { error: { type: string; code: string; message: string } }).error;
    expect(error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
    expect(error.message).toContain(`${tpm} tokens per minute`);
    expect(second.headers.get("x-ratelimit-remaining-tokens")).toBe(String(tpm - billed));
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(0);
  }, 90_000);
});
