import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Admin, Producer, stringSerializers } from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { topics } from "../../../shared/events.ts";
import type { ClickHouse } from "../../../workers/clickhouse/client.ts";
import { ensureTopics, topicSpecs } from "../../../workers/events/topics.ts";
import { type KafkaCluster, startKafkaCluster } from "../../stack/kafka/cluster.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { repoRoot } from "../../stack/paths.ts";
import {
  dropDatabase,
  localClient,
  migrateScratchDatabase,
  sampleEvent,
  scratchDatabase,
} from "../clickhouse/local-clickhouse.ts";

// Ingest as two processes of one consumer group on a three-broker cluster: one consumer and one broker
// are killed half-way; the other consumer takes over the dead one's partitions, the producer moves to
// the new partition leaders, and every event lands in ClickHouse once after dedupe.
const database = scratchDatabase("rebalance");
const total = 3_000;
const countRow = z.object({ n: z.number(), ids: z.number() });

/** acks=all without idempotence: a batch resent after a broker died may land twice, and folds in ClickHouse. */
function newProducer(cluster: KafkaCluster): Producer<string, string, string, string> {
  return new Producer({
    clientId: `rebalance-test-${randomUUID()}`,
    bootstrapBrokers: cluster.bootstrap,
    serializers: stringSerializers,
    acks: -1,
    autocreateTopics: false,
    retries: 5,
    retryDelay: 250,
  });
}

function startIngestProcess(cluster: KafkaCluster, index: number): ChildProcess {
  return spawn(`${repoRoot}/node_modules/.bin/bun`, ["workers/pool/ingest.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...localPoolEnv(),
      KAFKA_BROKERS: cluster.bootstrap.join(","),
      KAFKA_CLIENT_ID: `rebalance-${index}`,
      CLICKHOUSE_DATABASE: database,
    },
    stdio: "ignore",
  });
}

describe("ingest across a rebalance and a broker failure", () => {
  let cluster: KafkaCluster;
  let ch: ClickHouse;
  let producer: Producer<string, string, string, string>;
  const ingest: ChildProcess[] = [];

  beforeAll(async () => {
    await migrateScratchDatabase(database);
    ch = localClient(database);
    cluster = await startKafkaCluster({ basePort: 19_292 });
    await ensureTopics(cluster.bootstrap, topicSpecs, 3);
    producer = newProducer(cluster);
    ingest.push(startIngestProcess(cluster, 1), startIngestProcess(cluster, 2));
  }, 240_000);

  afterAll(async () => {
    for (const child of ingest) child.kill("SIGKILL");
    await producer?.close();
    await cluster?.stop();
    await ch?.close();
    await dropDatabase(database);
  }, 120_000);

  async function landed(): Promise<{ n: number; ids: number }> {
    const [row] = await ch.query(
      "SELECT count() AS n, uniqExact(event_id) AS ids FROM events FINAL WHERE tenant LIKE 'rb-%'",
      {},
      countRow,
    );
    return row ?? { n: -1, ids: -1 };
  }

  async function produce(from: number, to: number): Promise<void> {
    const ts = Date.now();
    for (let start = from; start < to; start += 250) {
      const messages = Array.from({ length: Math.min(250, to - start) }, (_, i) => {
        const event = sampleEvent({
          event_id: randomUUID(),
          tenant: `rb-${(start + i) % 30}`,
          ts: ts + start + i,
        });
        return { topic: topics.requestEvents, key: event.tenant, value: JSON.stringify(event) };
      });
      await sendUntilAccepted(messages);
    }
  }

  /**
   * Sends one batch, with a fresh producer after each failure, for up to a minute: partitions led by a
   * killed broker refuse writes until the controller fences it and elects new leaders.
   */
  async function sendUntilAccepted(messages: { topic: string; key: string; value: string }[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await producer.send({ messages });
        return;
      } catch (error: unknown) {
        if (Date.now() > deadline) throw error;
        await producer.close().catch(() => undefined);
        producer = newProducer(cluster);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  async function groupMembers(): Promise<number> {
    const admin = new Admin({ clientId: "rebalance-admin", bootstrapBrokers: cluster.bootstrap });
    try {
      const groups = await admin.describeGroups({ groups: ["tiergate-ingest"] });
      return [...groups.values()][0]?.members.size ?? 0;
    } finally {
      await admin.close();
    }
  }

  async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return false;
  }

  it("lands every event once after one consumer and one broker are killed", async () => {
    expect(await waitUntil(async () => (await groupMembers()) === 2, 90_000)).toBe(true);
    await produce(0, total / 2);
    expect(await waitUntil(async () => (await landed()).n > 0, 60_000)).toBe(true);

    ingest[0]?.kill("SIGKILL");
    await cluster.kill(3);
    await produce(total / 2, total);

    // The coordinator drops the dead member after its session timeout; the survivor takes everything.
    expect(await waitUntil(async () => (await groupMembers()) === 1, 90_000)).toBe(true);
    expect(await waitUntil(async () => (await landed()).n === total, 120_000)).toBe(true);
    expect(await landed()).toEqual({ n: total, ids: total });
  }, 360_000);
});
