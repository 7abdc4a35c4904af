import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { backfillFromJsonl, backfillFromKafka } from "../../../workers/backfill/events.ts";
import { EventProducer } from "../../../workers/events/producer.ts";
import { localClient, sampleEvent, scratchDatabase } from "../clickhouse/local-clickhouse.ts";
import { localKafkaBrokers, scratchTopic, useKafkaAndScratchDatabase } from "./local-kafka.ts";

const database = scratchDatabase("backfill");
const dir = mkdtempSync(join(tmpdir(), "tiergate-backfill-"));
const counts = z.object({ events: z.number(), viewed: z.number() });

/** Rows in events (FINAL) and requests counted by the minute view, for a tenant. */
async function countsOf(tenant: string): Promise<{ events: number; viewed: number }> {
  const ch = localClient(database);
  try {
    const [row] = await ch.query(
      `SELECT (SELECT count() FROM events FINAL WHERE tenant = {tenant:String}) AS events,
              (SELECT countMerge(requests) FROM request_stats_1m WHERE tenant = {tenant:String}) AS viewed`,
      { tenant },
      counts,
    );
    return row ?? { events: -1, viewed: -1 };
  } finally {
    await ch.close();
  }
}

describe("backfill:events", () => {
  const topicsMade = useKafkaAndScratchDatabase(database);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("replays a JSONL export within a time range; a second run changes nothing, views included", async () => {
    const tenant = "jsonl";
    const now = Date.now();
    const inRange = Array.from({ length: 2_500 }, (_, i) => sampleEvent({ tenant, ts: now - 60_000 + i }));
    const tooOld = Array.from({ length: 300 }, () => sampleEvent({ tenant, ts: now - 3_600_000 }));
    const file = join(dir, "events.jsonl");
    const lines = [...tooOld, ...inRange].map((e) => JSON.stringify(e));
    lines.splice(100, 0, "{not json", JSON.stringify({ tenant }));
    writeFileSync(file, `${lines.join("\n")}\n`);

    const ch = localClient(database);
    const progress: string[] = [];
    try {
      const range = { fromMs: now - 120_000, toMs: now + 1 };
      const first = await backfillFromJsonl(ch, { file, range, onProgress: (line) => progress.push(line) });
      expect(first).toEqual({ read: 2_802, inserted: 2_500, invalid: 2, outOfRange: 300 });
      await backfillFromJsonl(ch, { file, range });
    } finally {
      await ch.close();
    }
    expect(progress.at(-1)).toMatch(/\[#{30}\] 100%/);
    expect(await countsOf(tenant)).toEqual({ events: 2_500, viewed: 2_500 });
  });

  it("replays a topic from the earliest offset; a second run changes nothing, views included", async () => {
    const tenant = "kafka";
    const topic = await scratchTopic("backfill", 3);
    topicsMade.push(topic);
    const spoolDir = join(dir, "spool");
    const producer = await EventProducer.create({
      brokers: localKafkaBrokers,
      topic,
      spoolDir,
      maxBatchSize: 500,
    });
    for (let i = 0; i < 1_200; i++) producer.publish(sampleEvent({ tenant, user_id: `u${i % 9}` }));
    await producer.close();

    const ch = localClient(database);
    try {
      const range = { fromMs: 0, toMs: Number.MAX_SAFE_INTEGER };
      const first = await backfillFromKafka(ch, {
        brokers: localKafkaBrokers,
        topic,
        fromOffset: "earliest",
        range,
      });
      expect(first).toMatchObject({ read: 1_200, inserted: 1_200, invalid: 0 });
      const again = await backfillFromKafka(ch, { brokers: localKafkaBrokers, topic, fromOffset: 0n, range });
      expect(again.read).toBe(1_200);
    } finally {
      await ch.close();
    }
    expect(await countsOf(tenant)).toEqual({ events: 1_200, viewed: 1_200 });
  });
});
