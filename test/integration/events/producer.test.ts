import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin } from "@platformatic/kafka";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RequestEvent } from "../../../shared/events.ts";
import { EventProducer, type EventProducerOptions } from "../../../workers/events/producer.ts";
import { spoolDirBytes } from "../../../workers/events/spool.ts";
import { sleep, waitFor } from "../../stack/process.ts";
import { kafkaService } from "../../stack/services/kafka.ts";
import { sampleEvent } from "../clickhouse/local-clickhouse.ts";
import {
  deleteTopic,
  ensureKafka,
  localKafkaBrokers,
  messageCount,
  readAll,
  scratchTopic,
} from "./local-kafka.ts";

/** A port nothing listens on: Kafka unreachable without touching the shared broker. */
const deadBrokers = ["127.0.0.1:1"];
const topicsMade: string[] = [];
const dirs: string[] = [];
const producers: EventProducer[] = [];

function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tiergate-events-spool-"));
  dirs.push(dir);
  return dir;
}

async function producer(options: Partial<EventProducerOptions> & { topic: string }): Promise<EventProducer> {
  const made = await EventProducer.create({ brokers: localKafkaBrokers, spoolDir: spoolDir(), ...options });
  producers.push(made);
  return made;
}

async function topic(prefix: string): Promise<string> {
  const name = await scratchTopic(prefix, 3);
  topicsMade.push(name);
  return name;
}

const events = (n: number, tenant = (i: number) => `tenant-${i % 7}`): RequestEvent[] =>
  Array.from({ length: n }, (_, i) => sampleEvent({ tenant: tenant(i), request_id: `req-${i}` }));

function ids(values: string[]): string[] {
  return values.map((v) => (JSON.parse(v) as RequestEvent).event_id);
}

describe("EventProducer", () => {
  beforeAll(ensureKafka);
  afterEach(async () => {
    for (const p of producers.splice(0)) await p.close();
    await ensureKafka();
  });
  afterAll(async () => {
    for (const t of topicsMade) await deleteTopic(t).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("publishes batches that a consumer reads back, each event once", async () => {
    const name = await topic("roundtrip");
    const p = await producer({ topic: name, maxBatchSize: 100 });
    const sent = events(1_000);
    for (const e of sent) p.publish(e);
    await p.flush();
    expect(p.stats()).toMatchObject({ sent: 1_000, spooledEvents: 0, dropped: 0, buffered: 0 });
    const got = await readAll(name, sent.length);
    expect(await messageCount(name)).toBe(sent.length);
    expect(new Set(ids(got))).toEqual(new Set(sent.map((e) => e.event_id)));
  });

  it("spools while Kafka is down and delivers every event after it is back, duplicates bounded", async () => {
    const name = await topic("outage");
    const p = await producer({ topic: name, maxBatchSize: 50, replayBackoffMs: 200 });
    const sent = events(1_500);
    let next = 0;
    const publishSome = (n: number) => {
      for (const end = next + n; next < end && next < sent.length; next++)
        p.publish(sent[next] as RequestEvent);
    };
    publishSome(300);
    await p.flush();
    expect(p.stats().sent).toBe(300);

    // Keep publishing while the broker shuts down and while it is away.
    const stopping = kafkaService.stop();
    while (next < 900) {
      publishSome(50);
      await sleep(20);
    }
    await stopping;
    publishSome(300);
    await p.flush();
    const down = p.stats();
    expect(down.kafkaDown).toBe(true);
    expect(down.spooledEvents).toBeGreaterThan(0);
    expect(down.spooledBytes).toBeGreaterThan(0);

    await kafkaService.start();
    publishSome(300); // after the restart: queued behind the spool
    await p.flush();
    await waitFor(
      "spool replay",
      // The spool's count can reach 0 while the replay still awaits its commit; it clears kafkaDown after.
      async () => p.stats().spooledEvents === 0 && p.stats().sent >= sent.length && !p.stats().kafkaDown,
      60_000,
      200,
    );
    expect(p.stats()).toMatchObject({ dropped: 0, kafkaDown: false });

    // Delivery is at least once (workers/events/README.md): a batch the stopping broker wrote but never
    // acknowledged is spooled and sent again (seen: one batch of 50 in ~1 run of 4). Duplicates stay
    // within the batches in flight while it stopped; replaying the spool itself adds none.
    const delivered = await messageCount(name);
    expect(delivered).toBeGreaterThanOrEqual(sent.length);
    expect(delivered - sent.length).toBeLessThanOrEqual(2 * 50);
    const got = ids(await readAll(name, delivered));
    expect(new Set(got).size).toBe(sent.length);
    expect(new Set(got)).toEqual(new Set(sent.map((e) => e.event_id)));
  });

  it("never blocks or throws in publish while Kafka is unreachable", async () => {
    const p = await producer({ topic: "tiergate.unreachable", brokers: deadBrokers, sendTimeoutMs: 2_000 });
    const batch = events(5_000);
    expect(() => {
      for (const e of batch) p.publish(e);
    }).not.toThrow();
    // Still synchronous: every event is in memory, none waited for a connection attempt.
    const queued = p.stats();
    expect(queued.buffered + queued.inFlight).toBe(5_000);
    expect(queued.sent).toBe(0);
    await p.flush();
    expect(p.stats()).toMatchObject({
      buffered: 0,
      spooledEvents: 5_000,
      sent: 0,
      dropped: 0,
      kafkaDown: true,
    });
  });

  it("bounds the spool: oldest segments dropped and counted", async () => {
    const dir = spoolDir();
    const maxBytes = 64 * 1024;
    const p = await EventProducer.create({
      brokers: deadBrokers,
      topic: "tiergate.unreachable",
      spoolDir: dir,
      spoolMaxBytes: maxBytes,
      spoolSegmentBytes: 8 * 1024,
      maxBatchSize: 100,
    });
    producers.push(p);
    for (const e of events(2_000)) p.publish(e);
    await p.flush();
    const stats = p.stats();
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.dropped + stats.spooledEvents).toBe(2_000);
    expect(stats.spooledBytes).toBeLessThanOrEqual(maxBytes);
    expect(await spoolDirBytes(dir)).toBeLessThanOrEqual(maxBytes);
  });

  it("replays what an earlier process left in the spool", async () => {
    const name = await topic("leftover");
    const dir = spoolDir();
    const first = await EventProducer.create({ brokers: deadBrokers, topic: name, spoolDir: dir });
    const sent = events(250);
    for (const e of sent) first.publish(e);
    await first.close();
    expect(first.stats().spooledEvents).toBe(250);

    const second = await EventProducer.create({ brokers: localKafkaBrokers, topic: name, spoolDir: dir });
    producers.push(second);
    await waitFor("leftover replay", async () => second.stats().spooledEvents === 0, 30_000, 100);
    const got = ids(await readAll(name, sent.length));
    expect(new Set(got)).toEqual(new Set(sent.map((e) => e.event_id)));
  });

  it("takes over the spool directory of a dead process and replays it; a live process's is left alone", async () => {
    const name = await topic("orphan");
    const root = spoolDir();
    // A process that spooled and died: its directory keeps a lock naming a pid that no longer runs.
    const first = await EventProducer.create({ brokers: deadBrokers, topic: name, spoolDir: root });
    const left = events(300);
    for (const e of left) first.publish(e);
    await first.close();
    const orphanDir = join(root, "worker-0");
    const dead = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
    writeFileSync(join(orphanDir, "owner.lock"), `${dead} \n`);
    // A live owner of slot 1 (this test process's parent) keeps its directory out of reach.
    mkdirSync(join(root, "worker-1"));
    writeFileSync(join(root, "worker-1", "owner.lock"), `${process.ppid} \n`);
    writeFileSync(join(root, "worker-1", "seg-000000000001.jsonl"), `${JSON.stringify(events(1)[0])}\n`);

    // The new producer claims slot 0 (stale) or the lowest free one, and adopts what is left.
    const second = await producer({ topic: name, spoolDir: root, orphanScanMs: 200 });
    const mine = second.spoolDir();
    await waitFor("orphan replay", async () => second.stats().spooledEvents === 0, 30_000, 100);
    const got = ids(await readAll(name, left.length));
    expect(new Set(got)).toEqual(new Set(left.map((e) => e.event_id)));
    expect(got).toHaveLength(left.length);
    expect(mine).toBe(orphanDir);
    // The live process's directory was left alone.
    expect(readdirSync(join(root, "worker-1")).sort()).toEqual(["owner.lock", "seg-000000000001.jsonl"]);
  });

  it("adopts an orphaned directory beside its own (a dead sibling's spool)", async () => {
    const name = await topic("orphan-sibling");
    const root = spoolDir();
    const mineFirst = await producer({ topic: name, spoolDir: root, orphanScanMs: 200 });
    expect(mineFirst.spoolDir()).toBe(join(root, "worker-0"));
    // A sibling that died with events in its spool (slot 1).
    const sibling = await EventProducer.create({ brokers: deadBrokers, topic: name, spoolDir: root });
    const left = events(120);
    for (const e of left) sibling.publish(e);
    const siblingDir = sibling.spoolDir();
    await sibling.close(); // releases the lock: nobody owns its slot now
    expect(existsSync(siblingDir)).toBe(true);
    await waitFor("sibling spool replayed", async () => !existsSync(siblingDir), 30_000, 100);
    const got = ids(await readAll(name, left.length));
    expect(new Set(got)).toEqual(new Set(left.map((e) => e.event_id)));
  });

  it("an event Kafka refuses for good does not hold back newer ones: isolated, dropped and counted", async () => {
    // A topic that takes messages up to 20 kB, and a spool whose head is a larger event (random, so
    // compression cannot shrink it), left by an earlier process while Kafka was unreachable.
    const name = `test.stuck-spool.${randomUUID().slice(0, 8)}`;
    const admin = new Admin({ clientId: "tiergate-test", bootstrapBrokers: localKafkaBrokers });
    try {
      await admin.createTopics({
        topics: [name],
        partitions: 1,
        replicas: 1,
        configs: [{ name: "max.message.bytes", value: "20000" }],
      });
    } finally {
      await admin.close();
    }
    topicsMade.push(name);
    const root = spoolDir();
    const huge = { ...events(1)[0], route_decision: randomBytes(60_000).toString("base64") } as RequestEvent;
    const first = await EventProducer.create({ brokers: deadBrokers, topic: name, spoolDir: root });
    first.publish(huge);
    await first.close();
    expect(first.stats().spooledEvents).toBe(1);

    const p = await producer({ topic: name, spoolDir: root });
    await sleep(1_500);
    const fresh = events(50);
    for (const e of fresh) p.publish(e);
    await p.flush();
    const got = ids(await readAll(name, fresh.length));
    expect(new Set(got)).toEqual(new Set(fresh.map((e) => e.event_id)));
    // The refused event was isolated from the newer ones (which queued behind it) and counted, not kept
    // in front of them forever.
    await waitFor("spool drained", async () => p.stats().spooledEvents === 0, 30_000, 100);
    expect(p.stats()).toMatchObject({ dropped: 1, sent: fresh.length, spooledEvents: 0 });
    expect(got).not.toContain(huge.event_id);
  });
});
