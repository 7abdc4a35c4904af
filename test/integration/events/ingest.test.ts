import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type RequestEvent, requestEventSchema } from "../../../shared/events.ts";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { startIngest } from "../../../workers/events/consumer.ts";
import type { DeadLetterRecord } from "../../../workers/events/dead-letter.ts";
import { EventProducer } from "../../../workers/events/producer.ts";
import { sleep, waitFor } from "../../stack/process.ts";
import { localClickHouse } from "../../stack/services/clickhouse.ts";
import { localClient, sampleEvent, scratchDatabase } from "../clickhouse/local-clickhouse.ts";
import {
  localKafkaBrokers,
  produceStrings,
  readAll,
  scratchTopic,
  useKafkaAndScratchDatabase,
} from "./local-kafka.ts";

const database = scratchDatabase("ingest");
const countRow = z.object({ rows: z.number(), ids: z.number() });

async function eventsInClickHouse(): Promise<{ rows: number; ids: number }> {
  const ch = localClient(database);
  try {
    const [row] = await ch.query(
      "SELECT count() AS rows, uniqExact(event_id) AS ids FROM events FINAL",
      {},
      countRow,
    );
    return row ?? { rows: -1, ids: -1 };
  } finally {
    await ch.close();
  }
}

async function produce(topic: string, events: RequestEvent[]): Promise<void> {
  const spoolDir = mkdtempSync(join(tmpdir(), "tiergate-ingest-spool-"));
  try {
    const producer = await EventProducer.create({
      brokers: localKafkaBrokers,
      topic,
      spoolDir,
      maxBatchSize: 500,
    });
    for (const e of events) producer.publish(e);
    await producer.close();
    expect(producer.stats()).toMatchObject({ sent: events.length, spooledEvents: 0 });
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

const sample = (n: number) =>
  Array.from({ length: n }, (_, i) => sampleEvent({ tenant: `tenant-${i % 5}`, user_id: `user-${i % 11}` }));

describe("Kafka → ClickHouse ingest", () => {
  const topicsMade = useKafkaAndScratchDatabase(database);

  it("inserts every produced event into events, once (FINAL)", async () => {
    const topic = await scratchTopic("ingest", 6);
    topicsMade.push(topic);
    const events = sample(3_000);
    await produce(topic, events);
    const ch = localClient(database);
    const ingest = startIngest({
      brokers: localKafkaBrokers,
      clickhouse: ch,
      topic,
      groupId: `ingest-${topic}`,
    });
    try {
      await waitFor("ingest", async () => (await eventsInClickHouse()).rows >= events.length, 60_000, 250);
    } finally {
      await ingest.stop();
      await ch.close();
    }
    expect(await eventsInClickHouse()).toEqual({ rows: 3_000, ids: 3_000 });
    expect(ingest.stats().invalid).toBe(0);
  });

  it("while ClickHouse is unreachable: retries, commits nothing; a later ingest delivers everything", async () => {
    const topic = await scratchTopic("ingest-down", 3);
    topicsMade.push(topic);
    const before = (await eventsInClickHouse()).rows;
    const events = sample(500);
    await produce(topic, events);
    const groupId = `ingest-${topic}`;

    // A client on a port where no ClickHouse listens.
    const unreachable = createClickHouse({
      ...localClickHouse,
      url: "http://127.0.0.1:1",
      database,
      requestTimeoutMs: 500,
    });
    const failing = startIngest({
      brokers: localKafkaBrokers,
      clickhouse: unreachable,
      topic,
      groupId,
      retryBaseMs: 50,
    });
    await waitFor("insert retries", async () => failing.stats().insertRetries >= 3, 30_000, 100);
    await failing.stop();
    await unreachable.close();
    expect(failing.stats().inserted).toBe(0);

    const ch = localClient(database);
    const ingest = startIngest({ brokers: localKafkaBrokers, clickhouse: ch, topic, groupId });
    try {
      await waitFor(
        "ingest after outage",
        async () => (await eventsInClickHouse()).rows >= before + 500,
        60_000,
        250,
      );
      await sleep(500);
    } finally {
      await ingest.stop();
      await ch.close();
    }
    // Nothing was committed by the failing run, so the same group re-read all 500.
    expect(ingest.stats().inserted).toBe(500);
    expect(await eventsInClickHouse()).toEqual({ rows: before + 500, ids: before + 500 });
  });

  it("a message that cannot be stored goes to the dead-letter topic with its reason; the rest lands", async () => {
    const topic = await scratchTopic("ingest-bad", 3);
    const deadLetterTopic = await scratchTopic("ingest-dlq", 3);
    topicsMade.push(topic, deadLetterTopic);
    const before = (await eventsInClickHouse()).rows;
    const good = sample(200);
    const outOfRange = { ...sampleEvent(), status: 70_000 }; // UInt16 column
    const badUuid = { ...sampleEvent(), event_id: "not-a-uuid" }; // passes the lax schema below, not ClickHouse
    const values = [
      ...good.slice(0, 100).map((e) => JSON.stringify(e)),
      "{not json",
      JSON.stringify(outOfRange),
      JSON.stringify(badUuid),
      ...good.slice(100).map((e) => JSON.stringify(e)),
    ];
    await produceStrings(topic, values);
    const ch = localClient(database);
    // event_id as any string, so ClickHouse itself must refuse the bad row (and the batch is bisected).
    const lax = requestEventSchema.extend({ event_id: z.string() });
    const ingest = startIngest({
      brokers: localKafkaBrokers,
      clickhouse: ch,
      groupId: `ingest-${topic}`,
      sinks: [{ topic, table: "events", schema: lax }],
      deadLetterTopic,
    });
    try {
      await waitFor("good rows", async () => (await eventsInClickHouse()).rows >= before + 200, 60_000, 250);
      await waitFor("dead letters", async () => ingest.stats().deadLettered >= 3, 30_000, 100);
      // Ingest goes on after the bad rows.
      const later = sample(50);
      await produceStrings(
        topic,
        later.map((e) => JSON.stringify(e)),
      );
      await waitFor("later rows", async () => (await eventsInClickHouse()).rows >= before + 250, 60_000, 250);
    } finally {
      await ingest.stop();
      await ch.close();
    }
    expect(await eventsInClickHouse()).toEqual({ rows: before + 250, ids: before + 250 });
    expect(ingest.stats()).toMatchObject({ invalid: 2, refused: 1, deadLettered: 3 });
    const letters = (await readAll(deadLetterTopic, 3)).map((v) => JSON.parse(v) as DeadLetterRecord);
    const byValue = new Map(letters.map((l) => [l.value, l]));
    expect(letters).toHaveLength(3);
    expect(byValue.get("{not json")?.reason).toMatch(/not JSON/);
    expect(byValue.get(JSON.stringify(outOfRange))?.reason).toMatch(/status/);
    expect(byValue.get(JSON.stringify(badUuid))?.reason).toMatch(/clickhouse:.*UUID/i);
    for (const l of letters) expect(l).toMatchObject({ source_topic: topic, table: "events" });
  });
});
