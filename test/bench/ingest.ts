/**
 * Ingest benchmark: producer → Kafka → ClickHouse, on the local stack.
 *
 *   npm run bench:ingest [-- --seconds 60 --engines bun,kafka --batches 500,2000,10000 --fresh-rate 2000
 *                           --prefill 300000 --consumers 1,2]
 *
 * Two figures, measured separately:
 * - consume→ClickHouse alone: a topic is filled in advance with `--prefill` events, then `--consumers`
 *   ingest processes (one consumer group) start; the rate is events landed in `events` divided by the
 *   time from their start to the last row visible (their boot included);
 * - end to end, below.
 *
 * For each ingest engine (the Bun batching consumer of workers/events/consumer.ts in a child process, or
 * ClickHouse's Kafka table engine + a materialized view), events are produced at the highest rate the
 * producer sustains for `--seconds`, into a scratch topic and a scratch database; the ingest rate is
 * events landed in `events` divided by the time from the first produce to the last row visible.
 * Freshness: every 100 ms a probe event of its own tenant is produced; its delay is the time until that
 * tenant shows up in the per-minute view (polled every 50 ms); at full speed it mostly measures the
 * backlog, so a last run paces the producer at `--fresh-rate` events/s for the freshness figures. A short sweep measures the producer alone
 * at several batch sizes, and the real-time feature read (`userFeatures`) is timed on the filled table.
 * Writes .stack/results/bench-ingest.json.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin } from "@platformatic/kafka";
import { z } from "zod";
import type { RequestEvent } from "../../shared/events.ts";
import { type ClickHouse, createClickHouse } from "../../workers/clickhouse/client.ts";
import { migrateClickHouse } from "../../workers/clickhouse/migrate.ts";
import { startIngest } from "../../workers/events/consumer.ts";
import { userFeatures } from "../../workers/events/features.ts";
import { EventProducer } from "../../workers/events/producer.ts";
import { writeResults } from "../stack/paths.ts";
import { localClickHouse } from "../stack/services/clickhouse.ts";
import { localKafkaBrokers } from "../stack/services/kafka.ts";

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i] ?? "", process.argv[i + 1] ?? "");

const seconds = Number(args.get("--seconds") ?? "60");
const engines = (args.get("--engines") ?? "bun,kafka").split(",");
const freshRate = Number(args.get("--fresh-rate") ?? "2000");
const batchSizes = (args.get("--batches") ?? "500,2000,10000").split(",").filter(Boolean).map(Number);
const prefill = Number(args.get("--prefill") ?? "300000");
const consumerCounts = (args.get("--consumers") ?? "1,2").split(",").filter(Boolean).map(Number);
const count = z.object({ n: z.number() });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function event(i: number, tenant = `tenant-${i % 50}`): RequestEvent {
  return {
    event_id: randomUUID(),
    ts: Date.now(),
    request_id: `req-${i}`,
    tenant,
    user_id: `user-${i % 1000}`,
    route: "chat",
    tier: ["small", "medium", "large"][i % 3] ?? "small",
    model: "smollm2-135m",
    model_version: "q4_1",
    provider: "local",
    status: 200,
    cache: i % 4 === 0 ? "HIT" : "MISS",
    fallback_reason: i % 50 === 0 ? "upstream_timeout" : "",
    queue_ms: 1,
    ttft_ms: 20 + (i % 100),
    latency_ms: 100 + (i % 500),
    prompt_tokens: 12,
    completion_tokens: 34,
  };
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);

async function createTopic(): Promise<string> {
  const topic = `bench.ingest.${randomUUID().slice(0, 8)}`;
  const admin = new Admin({ clientId: "bench", bootstrapBrokers: localKafkaBrokers });
  await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 });
  await admin.close();
  return topic;
}

async function deleteTopic(topic: string): Promise<void> {
  const admin = new Admin({ clientId: "bench", bootstrapBrokers: localKafkaBrokers });
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.close();
}

/**
 * Publishes until `until`: as fast as the producer drains (at most 4 batches waiting in memory), or at
 * `rate` events/s when given.
 */
async function produceFor(
  producer: EventProducer,
  until: number,
  batchSize: number,
  onTick?: () => void,
  rate = 0,
) {
  let i = 0;
  const started = Date.now();
  while (Date.now() < until) {
    const s = producer.stats();
    if (rate > 0) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      while (i < due) producer.publish(event(i++));
      await sleep(5);
    } else if (s.buffered + s.inFlight < batchSize * 4) {
      for (let k = 0; k < batchSize; k++) producer.publish(event(i++));
    } else {
      await sleep(1);
    }
    onTick?.();
  }
  await producer.flush();
  return i;
}

async function producerSweep(): Promise<{ batch: number; eventsPerSecond: number }[]> {
  const rows: { batch: number; eventsPerSecond: number }[] = [];
  for (const batch of batchSizes) {
    const topic = await createTopic();
    const spoolDir = mkdtempSync(join(tmpdir(), "bench-ingest-spool-"));
    const producer = await EventProducer.create({
      brokers: localKafkaBrokers,
      topic,
      spoolDir,
      maxBatchSize: batch,
    });
    const started = performance.now();
    const produced = await produceFor(producer, Date.now() + 8_000, batch);
    const elapsed = (performance.now() - started) / 1000;
    if (producer.stats().spooledEvents > 0) console.warn(`batch ${batch}: events spooled`);
    await producer.close();
    rmSync(spoolDir, { recursive: true, force: true });
    await deleteTopic(topic);
    rows.push({ batch, eventsPerSecond: Math.round(produced / elapsed) });
  }
  return rows;
}

/** `name Type, …` of the `events` table, without DEFAULT expressions. */
async function columnList(ch: ClickHouse): Promise<string> {
  const columns = await ch.query(
    "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'events' ORDER BY position",
    {},
    z.object({ name: z.string(), type: z.string() }),
  );
  return columns.map((c) => `${c.name} ${c.type}`).join(", ");
}

async function rows(ch: ClickHouse): Promise<number> {
  const [row] = await ch.query("SELECT count() AS n FROM events", {}, count);
  return row?.n ?? 0;
}

interface EngineResult {
  engine: string;
  produced: number;
  eventsPerSecond: number;
  producedPerSecond: number;
  freshnessP50Ms: number;
  freshnessP99Ms: number;
  probes: number;
  featureReadP50Ms: number;
  featureReadP99Ms: number;
}

async function runEngine(engine: string, seconds: number, rate = 0): Promise<EngineResult> {
  const database = `bench_ingest_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const admin = createClickHouse({ ...localClickHouse, database: "default" });
  await migrateClickHouse(admin, database);
  const topic = await createTopic();
  const ch = createClickHouse({ ...localClickHouse, database, requestTimeoutMs: 30_000 });
  let child: ReturnType<typeof Bun.spawn> | undefined;
  if (engine === "bun") {
    child = spawnIngest(topic, database);
  } else {
    // Column types as in `events`, without their DEFAULT expressions (the Kafka engine refuses them; an
    // omitted optional field reads as its type's default). It reads JSONEachRow like our inserts.
    await ch.command(
      `CREATE TABLE kafka_events (${await columnList(ch)}) ENGINE = Kafka SETTINGS
         kafka_broker_list = {brokers:String}, kafka_topic_list = {topic:String},
         kafka_group_name = {group:String}, kafka_format = 'JSONEachRow', kafka_num_consumers = 1,
         kafka_max_block_size = 65536, kafka_flush_interval_ms = 200`,
      { brokers: localKafkaBrokers.join(","), topic, group: `bench-${topic}` },
    );
    await ch.command("CREATE MATERIALIZED VIEW kafka_events_mv TO events AS SELECT * FROM kafka_events");
  }

  const spoolDir = mkdtempSync(join(tmpdir(), "bench-ingest-spool-"));
  const producer = await EventProducer.create({
    brokers: localKafkaBrokers,
    topic,
    spoolDir,
    maxBatchSize: 10_000,
  });
  const probes = new Map<string, number>();
  const freshness: number[] = [];
  let lastProbe = 0;
  let probeIndex = 0;
  let polling = true;
  const poller = (async () => {
    const seen = z.object({ tenant: z.string() });
    while (polling || probes.size > 0) {
      const visible = await ch
        .query(
          "SELECT DISTINCT s.tenant AS tenant FROM request_stats_1m AS s WHERE s.tenant LIKE 'probe-%'",
          {},
          seen,
        )
        .catch(() => []);
      const now = Date.now();
      for (const { tenant } of visible) {
        const sent = probes.get(tenant);
        if (sent !== undefined) {
          freshness.push(now - sent);
          probes.delete(tenant);
        }
      }
      if (!polling && now - lastProbe > 120_000) break;
      await sleep(50);
    }
  })();

  const started = performance.now();
  const produced = await produceFor(
    producer,
    Date.now() + seconds * 1000,
    10_000,
    () => {
      if (Date.now() - lastProbe >= 100) {
        lastProbe = Date.now();
        const tenant = `probe-${probeIndex++}`;
        probes.set(tenant, lastProbe);
        producer.publish(event(0, tenant));
      }
    },
    rate,
  );
  const producedSeconds = (performance.now() - started) / 1000;
  await producer.close();
  const total = produced + probeIndex;
  const deadline = Date.now() + 300_000;
  while ((await rows(ch)) < total && Date.now() < deadline) await sleep(100);
  const landedSeconds = (performance.now() - started) / 1000;
  const landed = await rows(ch);
  polling = false;
  await poller;

  const featureTimes: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await userFeatures(ch, `tenant-${i % 50}`, `user-${i % 1000}`, 300);
    featureTimes.push(performance.now() - t);
  }
  featureTimes.sort((a, b) => a - b);
  freshness.sort((a, b) => a - b);

  child?.kill("SIGTERM");
  await child?.exited;
  await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: database });
  await Promise.all([ch.close(), admin.close()]);
  rmSync(spoolDir, { recursive: true, force: true });
  await deleteTopic(topic);
  if (landed < total) console.warn(`${engine}: only ${landed} of ${total} events landed`);
  return {
    engine: rate > 0 ? `${engine}@${rate}/s` : engine,
    produced: total,
    eventsPerSecond: Math.round(landed / landedSeconds),
    producedPerSecond: Math.round(total / producedSeconds),
    freshnessP50Ms: Math.round(quantile(freshness, 0.5)),
    freshnessP99Ms: Math.round(quantile(freshness, 0.99)),
    probes: freshness.length,
    featureReadP50Ms: Number(quantile(featureTimes, 0.5).toFixed(1)),
    featureReadP99Ms: Number(quantile(featureTimes, 0.99).toFixed(1)),
  };
}

interface ConsumeResult {
  consumers: number;
  events: number;
  /** From the first rows visible to the last. */
  eventsPerSecond: number;
  /** From the processes' spawn to the last row (boot and group join included). */
  withStartupPerSecond: number;
  /** Spawn to the first rows visible. */
  startupSeconds: number;
  seconds: number;
}

/** Spawns one ingest process (the child role below) on `topic` into `database`. */
function spawnIngest(topic: string, database: string): ReturnType<typeof Bun.spawn> {
  return Bun.spawn(
    [process.execPath, import.meta.path, "--role", "ingest", "--topic", topic, "--db", database],
    {
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
}

/** Consume→ClickHouse alone: a topic filled in advance, then `consumers` ingest processes in one group. */
async function runConsume(consumers: number): Promise<ConsumeResult> {
  const database = `bench_consume_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const admin = createClickHouse({ ...localClickHouse, database: "default" });
  await migrateClickHouse(admin, database);
  const topic = await createTopic();
  const ch = createClickHouse({ ...localClickHouse, database, requestTimeoutMs: 30_000 });
  const spoolDir = mkdtempSync(join(tmpdir(), "bench-ingest-spool-"));
  const producer = await EventProducer.create({
    brokers: localKafkaBrokers,
    topic,
    spoolDir,
    maxBatchSize: 10_000,
  });
  for (let i = 0; i < prefill; i += 10_000) {
    for (let k = i; k < Math.min(prefill, i + 10_000); k++) producer.publish(event(k));
    await producer.flush();
  }
  await producer.close();
  rmSync(spoolDir, { recursive: true, force: true });

  const started = performance.now();
  const children = Array.from({ length: consumers }, () => spawnIngest(topic, database));
  const deadline = Date.now() + 300_000;
  // The steady rate runs from the first rows visible (process boot and the group join are over) to the
  // last; the first batch's rows are not counted in it.
  let first: { at: number; rows: number } | undefined;
  let landed = 0;
  while (landed < prefill && Date.now() < deadline) {
    landed = await rows(ch);
    if (!first && landed > 0) first = { at: performance.now(), rows: landed };
    if (landed < prefill) await sleep(20);
  }
  const ended = performance.now();
  const seconds = (ended - started) / 1000;
  const steadySeconds = first ? (ended - first.at) / 1000 : Number.NaN;
  const steady = first && steadySeconds > 0 ? Math.round((landed - first.rows) / steadySeconds) : 0;
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((child) => child.exited));
  await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: database });
  await Promise.all([ch.close(), admin.close()]);
  await deleteTopic(topic);
  if (landed < prefill) console.warn(`consume ×${consumers}: only ${landed} of ${prefill} events landed`);
  return {
    consumers,
    events: landed,
    eventsPerSecond: steady,
    withStartupPerSecond: Math.round(landed / seconds),
    startupSeconds: first ? Number(((first.at - started) / 1000).toFixed(1)) : Number.NaN,
    seconds: Number(seconds.toFixed(1)),
  };
}

async function main(): Promise<void> {
  const consume: ConsumeResult[] = [];
  for (const consumers of consumerCounts) consume.push(await runConsume(consumers));
  console.log(
    `\nconsume→ClickHouse alone: ${prefill} events filled in advance, Bun ingest processes in one group`,
  );
  console.table(
    consume.map((r) => ({
      processes: r.consumers,
      "events/s (steady)": r.eventsPerSecond,
      "events/s (with startup)": r.withStartupPerSecond,
      "startup s": r.startupSeconds,
      seconds: r.seconds,
    })),
  );
  const sweep = await producerSweep();
  console.log("\nproducer alone (8 s each, snappy, acks=all, idempotent)");
  console.table(sweep.map((r) => ({ "batch size": r.batch, "events/s": r.eventsPerSecond })));
  const results: EngineResult[] = [];
  for (const engine of engines) results.push(await runEngine(engine, seconds));
  // Freshness means something only below capacity: a paced run of the Bun consumer.
  const paced = freshRate > 0 ? await runEngine("bun", Math.min(seconds, 30), freshRate) : undefined;
  if (paced) results.push(paced);
  console.log(
    `\nproducer → Kafka → ClickHouse, ${seconds} s at full speed (paced run: ${paced?.engine}), batch 10,000`,
  );
  console.table(
    results.map((r) => ({
      engine: r.engine.replace(/^bun/, "Bun consumer").replace(/^kafka/, "Kafka table engine"),
      "events landed/s": r.eventsPerSecond,
      "produced/s": r.producedPerSecond,
      "fresh p50 ms": r.freshnessP50Ms,
      "fresh p99 ms": r.freshnessP99Ms,
      probes: r.probes,
      "features p50 ms": r.featureReadP50Ms,
      "features p99 ms": r.featureReadP99Ms,
    })),
  );
  const kept = results.find((r) => r.engine === "bun") ?? results[0];
  const fastestConsume = consume.reduce<ConsumeResult | undefined>(
    (best, r) => (best && best.eventsPerSecond >= r.eventsPerSecond ? best : r),
    undefined,
  );
  const file = writeResults("bench-ingest", {
    seconds,
    engine: kept?.engine,
    events_per_second: kept?.eventsPerSecond,
    consume_events_per_second: fastestConsume?.eventsPerSecond,
    consume_processes: fastestConsume?.consumers,
    consume_prefilled_events: prefill,
    consume_runs: consume,
    targets: { consume_events_per_second: 200_000, events_per_second: 50_000, freshness_p99_ms: 1_000 },
    freshness_p50_ms: paced?.freshnessP50Ms,
    freshness_p99_ms: paced?.freshnessP99Ms,
    freshness_at_events_per_second: freshRate,
    freshness_at_full_speed_p99_ms: kept?.freshnessP99Ms,
    feature_read_p50_ms: kept?.featureReadP50Ms,
    feature_read_p99_ms: kept?.featureReadP99Ms,
    engines: results,
    producer_batch_sweep: sweep,
  });
  console.log(`written ${file}`);
  process.exit(0);
}

// Child role: the Bun consumer, in a process of its own like the pool's ingest process.
if (args.get("--role") === "ingest") {
  const ch = createClickHouse({ ...localClickHouse, database: args.get("--db") ?? "" });
  const ingest = startIngest({
    brokers: localKafkaBrokers,
    clickhouse: ch,
    topic: args.get("--topic") ?? "",
    groupId: `bench-${args.get("--topic")}`,
    maxBatchEvents: 50_000,
    maxBatchWaitMs: 200,
  });
  process.on("SIGTERM", () => void ingest.stop().then(() => process.exit(0)));
} else {
  await main();
}
