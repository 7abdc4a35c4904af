// Insert throughput of RequestEvents through the ClickHouse wrapper (JSONEachRow, synchronous inserts),
// into a scratch database on the running local server. Prints one line per batch size.
//
//   node_modules/.bin/bun test/stack/clickhouse/bench-insert.ts [events=100000]
import { randomUUID } from "node:crypto";
import type { RequestEvent } from "../../../shared/events.ts";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { insertEvents } from "../../../workers/clickhouse/events.ts";
import { migrateClickHouse } from "../../../workers/clickhouse/migrate.ts";
import { localClickHouse } from "../services/clickhouse.ts";

function syntheticEvents(count: number): RequestEvent[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    event_id: randomUUID(),
    ts: now - (count - i) * 10,
    request_id: `req-${i}`,
    tenant: `tenant-${i % 20}`,
    user_id: `user-${i % 5_000}`,
    route: "/v1/chat/completions",
    tier: i % 3 === 0 ? "large" : "small",
    model: i % 3 === 0 ? "model-large" : "model-small",
    model_version: "1",
    provider: "local",
    status: i % 50 === 0 ? 503 : 200,
    cache: i % 4 === 0 ? "HIT" : "MISS",
    fallback_reason: i % 40 === 0 ? "timeout" : "",
    queue_ms: i % 7,
    ttft_ms: 20 + (i % 90),
    latency_ms: 50 + (i % 900),
    prompt_tokens: 10 + (i % 500),
    completion_tokens: i % 700,
  }));
}

async function main(): Promise<void> {
  const total = Number.parseInt(process.argv[2] ?? "100000", 10);
  const database = `bench_${randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const admin = createClickHouse({ ...localClickHouse, database: "default" });
  await migrateClickHouse(admin, database);
  const ch = createClickHouse({ ...localClickHouse, database, requestTimeoutMs: 60_000 });
  try {
    for (const batchSize of [total, 10_000, 1_000]) {
      const events = syntheticEvents(total);
      const started = performance.now();
      for (let i = 0; i < events.length; i += batchSize)
        await insertEvents(ch, events.slice(i, i + batchSize));
      const seconds = (performance.now() - started) / 1000;
      const rate = Math.round(total / seconds);
      console.log(`${total} events in batches of ${batchSize}: ${seconds.toFixed(2)} s (${rate} events/s)`);
    }
  } finally {
    await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: database });
    await ch.close();
    await admin.close();
  }
}

await main();
