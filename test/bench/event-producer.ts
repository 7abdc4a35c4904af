/**
 * Throughput of EventProducer under Bun: publish N RequestEvents, flush, report events/s.
 *
 *   node_modules/.bin/bun test/bench/event-producer.ts [events] [compression]
 *
 * Needs the local broker (`npm run stack -- up kafka`); uses a scratch topic it deletes afterwards.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin } from "@platformatic/kafka";
import type { RequestEvent } from "../../shared/events.ts";
import type { EventCompression } from "../../workers/events/kafka-client.ts";
import { EventProducer } from "../../workers/events/producer.ts";
import { sampleEvent } from "../integration/clickhouse/local-clickhouse.ts";
import { localKafkaBrokers } from "../stack/services/kafka.ts";

const total = Number.parseInt(process.argv[2] ?? "200000", 10);
const compression = (process.argv[3] ?? "snappy") as EventCompression;
const topic = `bench.events.${randomUUID().slice(0, 8)}`;
const admin = new Admin({ clientId: "bench", bootstrapBrokers: localKafkaBrokers });
await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 });

const events: RequestEvent[] = Array.from({ length: total }, (_, i) =>
  sampleEvent({ request_id: `req-${i}`, tenant: `tenant-${i % 50}`, user_id: `user-${i % 1000}` }),
);

/**
 * "paced": publish in slices of 1,000 with a macrotask between them (requests arrive over time), so
 * batches go straight to Kafka. "burst": all at once in one tick; past maxBufferedEvents the buffer
 * overflows to the disk spool and reaches Kafka through replay.
 */
async function run(mode: "paced" | "burst"): Promise<void> {
  const spoolDir = mkdtempSync(join(tmpdir(), "bench-spool-"));
  const producer = await EventProducer.create({ brokers: localKafkaBrokers, topic, spoolDir, compression });
  const t0 = performance.now();
  for (let i = 0; i < events.length; i++) {
    producer.publish(events[i] as RequestEvent);
    if (mode === "paced" && i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await producer.flush();
  while (producer.stats().sent < total) await new Promise((r) => setTimeout(r, 5));
  const totalMs = performance.now() - t0;
  const stats = producer.stats();
  console.log(
    JSON.stringify({
      mode,
      events: total,
      compression,
      ms: Math.round(totalMs),
      eventsPerSec: Math.round(total / (totalMs / 1000)),
      dropped: stats.dropped,
    }),
  );
  await producer.close();
  rmSync(spoolDir, { recursive: true, force: true });
}

await run("paced");
await run("burst");
await admin.deleteTopics({ topics: [topic] });
await admin.close();
process.exit(0);
