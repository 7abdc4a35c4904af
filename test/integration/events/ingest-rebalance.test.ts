import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin } from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { EventProducer } from "../../../workers/events/producer.ts";
import { repoRoot } from "../../stack/paths.ts";
import { sleep, waitFor } from "../../stack/process.ts";
import {
  dropDatabase,
  localClient,
  migrateScratchDatabase,
  sampleEvent,
  scratchDatabase,
} from "../clickhouse/local-clickhouse.ts";
import { deleteTopic, ensureKafka, localKafkaBrokers, scratchTopic } from "./local-kafka.ts";

// Ingest as two processes in one consumer group (what INGEST_PROCESSES=2 runs). One is killed with
// SIGKILL while events flow: the group rebalances, the survivor takes its partitions from their committed
// offsets, and every event lands in ClickHouse once after dedupe.

const database = scratchDatabase("rebalance");
const counts = z.object({ rows: z.number(), ids: z.number() });
const children: ChildProcess[] = [];
let topic = "";

function startIngestProcess(groupId: string): ChildProcess {
  const child = spawn(
    join(repoRoot, "node_modules/.bin/bun"),
    ["test/integration/events/ingest-process.ts", topic, database, groupId],
    { cwd: repoRoot, stdio: "ignore" },
  );
  children.push(child);
  return child;
}

async function landed(): Promise<{ rows: number; ids: number }> {
  const ch = localClient(database);
  try {
    const [row] = await ch.query(
      "SELECT count() AS rows, uniqExact(event_id) AS ids FROM events FINAL",
      {},
      counts,
    );
    return row ?? { rows: 0, ids: 0 };
  } finally {
    await ch.close();
  }
}

/** Partitions of `topic` each ingest process (by pid) owns in the group right now. */
async function assignments(groupId: string): Promise<Map<number, number>> {
  const admin = new Admin({ clientId: "tiergate-test", bootstrapBrokers: localKafkaBrokers });
  try {
    const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
    const owned = new Map<number, number>();
    for (const member of group?.members.values() ?? []) {
      const pid = Number(/test-ingest-(\d+)/.exec(member.clientId)?.[1]);
      const partitions = [...(member.assignments?.values() ?? [])].reduce(
        (n, a) => n + a.partitions.length,
        0,
      );
      owned.set(pid, partitions);
    }
    return owned;
  } finally {
    await admin.close();
  }
}

/** Produces `n` events keyed by tenant (12 tenants, so every partition gets some); returns their ids. */
async function produce(n: number): Promise<string[]> {
  const events = Array.from({ length: n }, (_, i) => sampleEvent({ tenant: `tenant-${i % 12}` }));
  const spoolDir = mkdtempSync(join(tmpdir(), "tiergate-rebalance-spool-"));
  try {
    const producer = await EventProducer.create({ brokers: localKafkaBrokers, topic, spoolDir });
    for (const event of events) producer.publish(event);
    await producer.close();
    expect(producer.stats()).toMatchObject({ sent: n, spooledEvents: 0 });
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
  return events.map((e) => e.event_id);
}

describe("ingest as two processes in one consumer group", () => {
  beforeAll(async () => {
    await Promise.all([ensureKafka(), migrateScratchDatabase(database)]);
    topic = await scratchTopic("rebalance", 6);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await deleteTopic(topic).catch(() => undefined);
    await dropDatabase(database);
  });

  it("one killed mid-way: the other takes over its partitions and every event lands once", async () => {
    const groupId = `rebalance-${topic}`;
    const ids = new Set(await produce(10_000));
    const [first, second] = [startIngestProcess(groupId), startIngestProcess(groupId)];
    for (const id of await produce(10_000)) ids.add(id);
    // Both own partitions (3 of 6 each) before one dies.
    await waitFor(
      "both processes own partitions",
      async () => {
        const owned = await assignments(groupId).catch(() => new Map<number, number>());
        return (owned.get(first?.pid ?? 0) ?? 0) > 0 && (owned.get(second?.pid ?? 0) ?? 0) > 0;
      },
      90_000,
      200,
    );
    await waitFor("both processes ingesting", async () => (await landed()).rows >= 5_000, 90_000, 100);
    second?.kill("SIGKILL");
    await once(second as ChildProcess, "exit");
    for (const id of await produce(10_000)) ids.add(id);
    await waitFor("every event", async () => (await landed()).ids >= ids.size, 120_000, 500);
    await sleep(1_000); // a late duplicate would show up now
    expect(await landed()).toEqual({ rows: ids.size, ids: ids.size });
    expect(first?.exitCode).toBeNull(); // the survivor took over the dead one's partitions
    expect((await assignments(groupId)).get(first?.pid ?? 0)).toBe(6);
    first?.kill("SIGTERM");
    await once(first as ChildProcess, "exit");
  }, 240_000);
});
