import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { sleep, waitFor } from "../../stack/process.ts";
import { clickhouseService, localClickHouse } from "../../stack/services/clickhouse.ts";
import { kafkaService } from "../../stack/services/kafka.ts";
import { ensureClickHouse, migrateScratchDatabase } from "../clickhouse/local-clickhouse.ts";
import { ensureKafka } from "./local-kafka.ts";
import { PoolUnderTest, requestFlow } from "./pool-under-test.ts";

// Requests flow through a real pool (signed like the edge signs them) while Kafka, then ClickHouse, is
// stopped and restarted; afterwards every answered request is in `events` exactly once.

const pool = new PoolUnderTest(18_085, "outage-test");
const database = pool.env.CLICKHOUSE_DATABASE;
const clickhouse = createClickHouse({ ...localClickHouse, database, requestTimeoutMs: 5_000 });
const counts = z.object({ rows: z.number(), ids: z.number() });
const idRow = z.object({ request_id: z.string() });

async function eventsOf(tenant: string): Promise<{ rows: number; ids: number }> {
  const [row] = await clickhouse.query(
    "SELECT count() AS rows, uniqExact(request_id) AS ids FROM events FINAL WHERE tenant = {tenant:String}",
    { tenant },
    counts,
  );
  return row ?? { rows: 0, ids: 0 };
}

async function requestIdsOf(tenant: string): Promise<string[]> {
  const rows = await clickhouse.query(
    "SELECT request_id FROM events FINAL WHERE tenant = {tenant:String} ORDER BY request_id",
    { tenant },
    idRow,
  );
  return rows.map((r) => r.request_id);
}

/** Waits until ClickHouse holds `expected` events of the tenant (ClickHouse errors count as "not yet"). */
async function awaitEvents(tenant: string, expected: number): Promise<void> {
  await waitFor(
    `${expected} events of ${tenant}`,
    async () => (await eventsOf(tenant).catch(() => ({ rows: -1 }))).rows >= expected,
    150_000,
    500,
  );
  await sleep(1_000); // a late duplicate would show up now
}

describe("events through the pool survive dependency outages", () => {
  beforeAll(async () => {
    await Promise.all([ensureKafka(), migrateScratchDatabase(database)]);
    await pool.start();
  });
  afterAll(async () => {
    await pool.stop();
    await Promise.all([ensureKafka(), ensureClickHouse()]);
    await clickhouse.close();
  });

  it("Kafka stopped and restarted while requests flow: every answered request lands once", async () => {
    const tenant = `kafka-outage-${Date.now()}`;
    const flow = requestFlow(pool, tenant);
    try {
      await waitFor("requests before the outage", async () => flow.count() >= 20, 60_000, 50);
      await kafkaService.stop();
      const atStop = flow.count();
      await waitFor("requests while Kafka is down", async () => flow.count() >= atStop + 20, 60_000, 50);
      await sleep(2_000);
      await kafkaService.start();
      const atRestart = flow.count();
      await waitFor("requests after the restart", async () => flow.count() >= atRestart + 20, 60_000, 50);
      expect(atRestart).toBeGreaterThan(atStop); // requests were answered while Kafka was away
    } finally {
      await flow.stop();
      await ensureKafka();
    }
    expect(flow.failed).toEqual([]); // serving never depended on Kafka
    await awaitEvents(tenant, flow.answered.length);
    expect(await eventsOf(tenant)).toEqual({ rows: flow.answered.length, ids: flow.answered.length });
    expect(await requestIdsOf(tenant)).toEqual([...flow.answered].sort());
  }, 300_000);

  it("ClickHouse stopped and restarted while requests flow: every answered request lands once", async () => {
    const tenant = `clickhouse-outage-${Date.now()}`;
    const flow = requestFlow(pool, tenant);
    try {
      await waitFor("requests before the outage", async () => flow.count() >= 20, 60_000, 50);
      await clickhouseService.stop();
      const atStop = flow.count();
      await waitFor("requests while ClickHouse is down", async () => flow.count() >= atStop + 20, 60_000, 50);
      await sleep(2_000);
      await clickhouseService.start();
      const atRestart = flow.count();
      await waitFor("requests after the restart", async () => flow.count() >= atRestart + 20, 60_000, 50);
      expect(atRestart).toBeGreaterThan(atStop);
    } finally {
      await flow.stop();
      await ensureClickHouse();
    }
    expect(flow.failed).toEqual([]);
    await awaitEvents(tenant, flow.answered.length);
    expect(await eventsOf(tenant)).toEqual({ rows: flow.answered.length, ids: flow.answered.length });
    expect(await requestIdsOf(tenant)).toEqual([...flow.answered].sort());
  }, 300_000);
});
