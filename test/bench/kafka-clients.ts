/**
 * Side-by-side check of the two Kafka clients under Bun: idempotent producer, compression,
 * consumer groups with committed offsets, and produce throughput of small JSON events.
 *
 *   node_modules/.bin/bun test/bench/kafka-clients.ts [brokers] [events]
 *
 * Needs a running broker (`npm run stack -- up kafka`). Prints one JSON line per client.
 */
import { randomUUID } from "node:crypto";
import {
  Admin,
  Consumer as PlatformaticConsumer,
  Producer as PlatformaticProducer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { CompressionTypes, Kafka, logLevel } from "kafkajs";

const brokers = (process.argv[2] ?? "127.0.0.1:9092").split(",");
const total = Number.parseInt(process.argv[3] ?? "200000", 10);
const chunk = 1000;
const partitions = 6;

interface Event {
  key: string;
  value: string;
  id: string;
}

function makeEvents(n: number): Event[] {
  const events: Event[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const tenant = `tenant-${i % 50}`;
    const value = JSON.stringify({
      event_id: id,
      ts: Date.now(),
      tenant,
      route: "/v1/chat",
      status: 200,
      seq: i,
    });
    events.push({ key: tenant, value, id });
  }
  return events;
}

async function createTopic(topic: string): Promise<void> {
  const admin = new Admin({ clientId: "bench-admin", bootstrapBrokers: brokers });
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  await admin.close();
}

interface Result {
  client: string;
  compression: string;
  produced: number;
  produceMs: number;
  eventsPerSec: number;
  consumedDistinct: number;
  consumeMs: number;
  orderedPerKey: boolean;
  resumedFromCommit: boolean;
  error?: string;
}

/** Checks that, per key, the `seq` values arrive increasing (idempotent + ordered delivery). */
function orderTracker(): { see: (key: string, value: string) => void; ok: () => boolean } {
  const last = new Map<string, number>();
  let ordered = true;
  return {
    see(key, value) {
      const seq = (JSON.parse(value) as { seq: number }).seq;
      if ((last.get(key) ?? -1) > seq) ordered = false;
      last.set(key, seq);
    },
    ok: () => ordered,
  };
}

async function platformatic(
  events: Event[],
  compression: "lz4" | "gzip" | "zstd" | "snappy",
): Promise<Result> {
  const topic = `bench-pk-${compression}-${Date.now()}`;
  await createTopic(topic);
  const producer = new PlatformaticProducer({
    clientId: "bench-pk",
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    compression,
  });
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += chunk) {
    await producer.send({
      messages: events.slice(i, i + chunk).map((e) => ({ topic, key: e.key, value: e.value })),
    });
  }
  const produceMs = performance.now() - t0;
  await producer.close();

  const groupId = `bench-pk-group-${Date.now()}`;
  const seen = new Set<string>();
  const order = orderTracker();
  const t1 = performance.now();
  const consumer = new PlatformaticConsumer({
    clientId: "bench-pk-consumer",
    groupId,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: "committed",
    fallbackMode: "earliest",
    autocommit: false,
  });
  const lastPerPartition = new Map<number, { commit: () => unknown }>();
  for await (const message of stream) {
    order.see(message.key, message.value);
    seen.add((JSON.parse(message.value) as { event_id: string }).event_id);
    lastPerPartition.set(message.partition, message);
    if (seen.size >= events.length) break;
  }
  await Promise.all([...lastPerPartition.values()].map((m) => m.commit()));
  const consumeMs = performance.now() - t1;
  await stream.close();
  await consumer.close();

  // A second consumer of the same group must start after the committed offsets: produce 10 more.
  const tail = makeEvents(10);
  const producer2 = new PlatformaticProducer({
    clientId: "bench-pk",
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
  });
  await producer2.send({ messages: tail.map((e) => ({ topic, key: e.key, value: e.value })) });
  await producer2.close();
  const consumer2 = new PlatformaticConsumer({
    clientId: "bench-pk-consumer",
    groupId,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
  });
  const stream2 = await consumer2.consume({
    topics: [topic],
    mode: "committed",
    fallbackMode: "earliest",
    autocommit: false,
  });
  const tailIds = new Set(tail.map((e) => e.id));
  let resumed = true;
  let got = 0;
  for await (const message of stream2) {
    if (!tailIds.has((JSON.parse(message.value) as { event_id: string }).event_id)) resumed = false;
    if (++got >= tail.length) break;
  }
  await stream2.close();
  await consumer2.close();
  return {
    client: "@platformatic/kafka",
    compression,
    produced: events.length,
    produceMs: Math.round(produceMs),
    eventsPerSec: Math.round(events.length / (produceMs / 1000)),
    consumedDistinct: seen.size,
    consumeMs: Math.round(consumeMs),
    orderedPerKey: order.ok(),
    resumedFromCommit: resumed,
  };
}

async function kafkajs(events: Event[], compression: "gzip" | "none"): Promise<Result> {
  const topic = `bench-kj-${compression}-${Date.now()}`;
  await createTopic(topic);
  const kafka = new Kafka({ clientId: "bench-kj", brokers, logLevel: logLevel.ERROR });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const codec = compression === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None;
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += chunk) {
    await producer.send({
      topic,
      acks: -1,
      compression: codec,
      messages: events.slice(i, i + chunk).map((e) => ({ key: e.key, value: e.value })),
    });
  }
  const produceMs = performance.now() - t0;
  await producer.disconnect();

  const groupId = `bench-kj-group-${Date.now()}`;
  const seen = new Set<string>();
  const order = orderTracker();
  const t1 = performance.now();
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommitInterval: 200,
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? "";
        const value = message.value?.toString() ?? "{}";
        order.see(key, value);
        seen.add((JSON.parse(value) as { event_id: string }).event_id);
        if (seen.size >= events.length) resolve();
      },
    });
  });
  const consumeMs = performance.now() - t1;
  await consumer.disconnect();

  const tail = makeEvents(10);
  const producer2 = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer2.connect();
  await producer2.send({ topic, messages: tail.map((e) => ({ key: e.key, value: e.value })) });
  await producer2.disconnect();
  const consumer2 = kafka.consumer({ groupId });
  await consumer2.connect();
  await consumer2.subscribe({ topic, fromBeginning: true });
  const tailIds = new Set(tail.map((e) => e.id));
  let resumed = true;
  let got = 0;
  await new Promise<void>((resolve) => {
    void consumer2.run({
      eachMessage: async ({ message }) => {
        const value = JSON.parse(message.value?.toString() ?? "{}") as { event_id: string };
        if (!tailIds.has(value.event_id)) resumed = false;
        if (++got >= tail.length) resolve();
      },
    });
  });
  await consumer2.disconnect();
  return {
    client: "kafkajs",
    compression,
    produced: events.length,
    produceMs: Math.round(produceMs),
    eventsPerSec: Math.round(events.length / (produceMs / 1000)),
    consumedDistinct: seen.size,
    consumeMs: Math.round(consumeMs),
    orderedPerKey: order.ok(),
    resumedFromCommit: resumed,
  };
}

async function attempt(name: string, run: () => Promise<Result>): Promise<void> {
  try {
    console.log(JSON.stringify(await run()));
  } catch (error: unknown) {
    console.log(
      JSON.stringify({
        client: name,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      }),
    );
  }
}

const events = makeEvents(total);
// Warm-up (JIT, wasm codecs, connections) so the first measured run is not penalised.
if (!process.env.BENCH_NO_WARMUP) {
  await platformatic(makeEvents(2000), "lz4").catch(() => undefined);
  await kafkajs(makeEvents(2000), "gzip").catch(() => undefined);
}
const which = process.env.BENCH_ONLY;
if (!which || which === "platformatic") {
  for (const c of ["lz4", "zstd", "gzip", "snappy"] as const)
    await attempt(`@platformatic/kafka ${c}`, () => platformatic(events, c));
}
if (!which || which === "kafkajs") {
  for (const c of ["gzip", "none"] as const) await attempt(`kafkajs ${c}`, () => kafkajs(events, c));
}
process.exit(0);
