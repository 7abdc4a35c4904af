import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { migrateClickHouse } from "../../../workers/clickhouse/migrate.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { workerEnvSchema } from "../../../workers/pool/env.ts";
import { bundledRouterModel, learnedClassify } from "../../../workers/router/difficulty/source.ts";
import { saveAdjustment } from "../../../workers/router/learning/adjustments.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { startTestPool, type TestPool } from "./pool-harness.ts";

// A pool following the Postgres registry (the default), so its workers read learned shifts by polling.
const config = workerEnvSchema.parse(localPoolEnv());
const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
const run = randomUUID().slice(0, 8);
const shifted = `lp-shifted-${run}`;
const plain = `lp-plain-${run}`;
const prompt = "Is this email spam? 'You won a free cruise, click to claim now.'";
const taskClass = learnedClassify(
  { model: "auto", messages: [{ role: "user", content: prompt }] },
  bundledRouterModel(),
).category as string;
let pool: TestPool;

beforeAll(async () => {
  // The route columns of `events` (what `npm run stack -- up` applies on a fresh stack).
  const clickhouse = createClickHouse({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
  });
  await migrateClickHouse(clickhouse, config.CLICKHOUSE_DATABASE).finally(() => clickhouse.close());
  await saveAdjustment(
    database.db,
    {
      tenant: shifted,
      taskClass,
      shift: 1,
      window: 3,
      lowStreak: 0,
      highStreak: 0,
      cooldownUntil: 9,
      lastWindowEnd: new Date(),
    },
    { from: 0, actor: "learned-pool-test", reason: "a shift as the learning job writes it" },
  );
  pool = await startTestPool(18_097, { REGISTRY_POLL_MS: "200" });
}, 60_000);
afterAll(async () => {
  await pool?.stop();
  await database.close();
});

const ask = (tenant: string) =>
  pool.call(
    "POST",
    "/internal/v1/chat/completions",
    { model: "auto", max_tokens: 2, temperature: 0, messages: [{ role: "user", content: prompt }] },
    { "x-tiergate-tenant": tenant, "x-request-id": `lp-${randomUUID()}` },
  );

describe("the pool routes `auto` by difficulty and applies what a tenant's feedback taught", () => {
  it("the header carries the prediction and target; only the shifted tenant moves up one tier", async () => {
    const order = ["small", "medium", "large"];
    const base = await ask(plain);
    expect(base.status).toBe(200);
    const baseRoute = base.headers.get("x-tiergate-route") ?? "";
    await base.json();
    expect(baseRoute).toMatch(
      /^auto;task=\w+;difficulty=\w+;conf=[\d.]+;by=learned;class=\w+;p=[\d.]+\/[\d.]+\/1\.00;target=[\d.]+;tier=\w+/,
    );
    expect(baseRoute).toContain(`class=${taskClass}`);
    expect(baseRoute).not.toContain("feedback=");
    const baseTier = /;tier=(\w+)/.exec(baseRoute)?.[1] ?? "";

    const moved = await ask(shifted);
    expect(moved.status).toBe(200);
    const movedRoute = moved.headers.get("x-tiergate-route") ?? "";
    await moved.json();
    expect(movedRoute).toContain("feedback=+1");
    const movedTier = /;tier=(\w+)/.exec(movedRoute)?.[1] ?? "";
    expect(order.indexOf(movedTier)).toBe(Math.min(2, order.indexOf(baseTier) + 1));
  });

  it("the learning endpoint refuses a bad body with a 400 and runs a window for a good one", async () => {
    const bad = await pool.call("POST", "/internal/v1/routing/learn", { now: "yesterday" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: "invalid_request_error", param: "now" } });
    // A window 23 hours back (a run's `now` must be within a day of the pool's clock): nothing was
    // routed then, so nothing is learned, but the job runs.
    const good = await pool.call("POST", "/internal/v1/routing/learn", {
      now: Date.now() - 23 * 3_600_000,
      trigger: "test",
    });
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual({ ran: true, classes: [] });
  });
});
