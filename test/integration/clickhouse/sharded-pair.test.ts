import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type ClickHouse, createClickHouse } from "../../../workers/clickhouse/client.ts";
import type { DdlMode } from "../../../workers/clickhouse/ddl-modes.ts";
import { eventsPerMinute, insertEvents } from "../../../workers/clickhouse/events.ts";
import { migrateClickHouse } from "../../../workers/clickhouse/migrate.ts";
import { type ShardServer, startShards, stopShards } from "../../stack/clickhouse/shards.ts";
import { sampleEvent } from "./local-clickhouse.ts";

// Two real ClickHouse engines (chdb) with native TCP listeners, one cluster of two shards without
// replication: the `shards` DDL mode applied to each, events inserted through the Distributed table.
const cluster = "tiergate_pair";
const database = "tiergate";
const mode: DdlMode = { kind: "shards", cluster };
const countRow = z.object({ n: z.number() });

describe("a sharded pair of ClickHouse servers", () => {
  let servers: ShardServer[] = [];
  let clients: ClickHouse[] = [];

  beforeAll(async () => {
    servers = await startShards({ cluster, basePort: 18_311, count: 2 });
    clients = servers.map((s) =>
      createClickHouse({ url: s.url, username: "default", password: "", database: "default" }),
    );
    // Two migrators on the first server at once serialise on the lock; the second finds nothing to do.
    const [first, second] = clients as [ClickHouse, ClickHouse];
    await Promise.all([
      migrateClickHouse(first, database, { mode }),
      migrateClickHouse(first, database, { mode }),
    ]);
    await migrateClickHouse(second, database, { mode });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stopShards(servers);
  }, 60_000);

  async function count(
    client: ClickHouse,
    sql: string,
    params: Record<string, unknown> = {},
  ): Promise<number> {
    const [row] = await client.query(sql, { db: database, ...params }, countRow);
    return row?.n ?? -1;
  }

  it("applied each migration once per server, Distributed tables under the original names", async () => {
    for (const client of clients) {
      const applied = await count(client, "SELECT count() AS n FROM {db:Identifier}.schema_migrations");
      const files = await count(
        client,
        "SELECT uniqExact(version) AS n FROM {db:Identifier}.schema_migrations",
      );
      expect(applied).toBe(files);
      const engines = await client.query(
        "SELECT name, engine FROM system.tables WHERE database = {db:String} AND name IN ('events', 'events_local', 'events_by_minute', 'request_stats_1m') ORDER BY name",
        { db: database },
        z.object({ name: z.string(), engine: z.string() }),
      );
      expect(engines).toEqual([
        { name: "events", engine: "Distributed" },
        { name: "events_by_minute", engine: "Distributed" },
        { name: "events_local", engine: "ReplacingMergeTree" },
        { name: "request_stats_1m", engine: "Distributed" },
      ]);
    }
  });

  it("spreads events inserted through one server over both shards, and both servers read them all", async () => {
    const [first, second] = clients.map((c) => c) as [ClickHouse, ClickHouse];
    const ts = Date.now();
    const events = Array.from({ length: 400 }, (_, i) =>
      sampleEvent({ tenant: "sharded", ts: ts + i, user_id: `u${i % 7}` }),
    );
    const scoped = createClickHouse({
      url: servers[0]?.url ?? "",
      username: "default",
      password: "",
      database,
    });
    try {
      await insertEvents(scoped, events);
      // A redelivered batch (Kafka is at least once) lands on the same shards and folds there.
      await insertEvents(scoped, events.slice(0, 100));
      // The engine here queues Distributed inserts without sending them in the background (shards.ts).
      await scoped.command("SYSTEM FLUSH DISTRIBUTED {db:Identifier}.events", { db: database });
    } finally {
      await scoped.close();
    }
    const local = await Promise.all(
      clients.map((c) =>
        count(c, "SELECT count() AS n FROM {db:Identifier}.events_local FINAL WHERE tenant = 'sharded'"),
      ),
    );
    expect(local.every((n) => n > 0)).toBe(true);
    expect((local[0] ?? 0) + (local[1] ?? 0)).toBe(400);
    for (const client of [first, second]) {
      expect(
        await count(client, "SELECT count() AS n FROM {db:Identifier}.events FINAL WHERE tenant = 'sharded'"),
      ).toBe(400);
    }
  });

  it("rolls events up on each shard, and the unchanged rollup queries merge the shards", async () => {
    const second = createClickHouse({
      url: servers[1]?.url ?? "",
      username: "default",
      password: "",
      database,
    });
    try {
      const minutes = await eventsPerMinute(second, {
        tenant: "sharded",
        fromMs: Date.now() - 3_600_000,
        toMs: Date.now() + 3_600_000,
      });
      // The views count inserts, the redelivered 100 included (exact counts come from events FINAL).
      expect(minutes.reduce((sum, m) => sum + m.requests, 0)).toBe(500);
      expect(Math.max(...minutes.map((m) => m.users))).toBeLessThanOrEqual(7);
    } finally {
      await second.close();
    }
  });
});
