/**
 * Replays request events into ClickHouse `events`, idempotently (run by workers/scripts/backfill-events.ts).
 * JSONL: one RequestEvent per line (an export, or a spool segment).
 * Kafka: every partition of the topic from offset N (or the earliest kept) up to its end at start time,
 * read without a consumer group so the live ingest's offsets are untouched. Idempotent twice over: each
 * batch carries an insert deduplication token derived from its content (JSONL) or its offsets (Kafka),
 * so a re-run is dropped by ClickHouse and the views are not counted twice; and `events` is a
 * ReplacingMergeTree on event_id, so events that the live ingest also delivered fold on merge (FINAL).
 */
import { randomUUID } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { Consumer, stringDeserializers } from "@platformatic/kafka";
import { type RequestEvent, requestEventSchema } from "../../shared/events.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import { insertEvents } from "../clickhouse/events.ts";
import { toKafkaError } from "../events/kafka-client.ts";
import { sha256HexSync } from "../lib/sha256.ts";

export interface BackfillRange {
  fromMs: number;
  toMs: number;
}

export interface BackfillStats {
  read: number;
  inserted: number;
  invalid: number;
  outOfRange: number;
}

const batchSize = 10_000;

/** A progress bar on one terminal line: `[#####-----]  50%  1234 events`. */
export function progressLine(done: number, total: number, events: number): string {
  const share = total > 0 ? Math.min(1, done / total) : 1;
  const width = 30;
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%  ${events} events`;
}

/** A time given as epoch ms or an ISO date; `fallback` when not given. */
export function parseTime(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const asNumber = Number(value);
  const ms = Number.isFinite(asNumber) ? asNumber : Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`not a time: ${value}`);
  return ms;
}

class Batcher {
  readonly stats: BackfillStats = { read: 0, inserted: 0, invalid: 0, outOfRange: 0 };
  #events: RequestEvent[] = [];
  #lines: string[] = [];

  constructor(
    private readonly ch: ClickHouse,
    private readonly range: BackfillRange,
  ) {}

  /** Adds one raw value; returns true when a batch is full. */
  add(raw: string): boolean {
    this.stats.read++;
    let parsed: ReturnType<typeof requestEventSchema.safeParse>;
    try {
      parsed = requestEventSchema.safeParse(JSON.parse(raw));
    } catch {
      this.stats.invalid++;
      return false;
    }
    if (!parsed.success) {
      this.stats.invalid++;
      return false;
    }
    if (parsed.data.ts < this.range.fromMs || parsed.data.ts >= this.range.toMs) {
      this.stats.outOfRange++;
      return false;
    }
    this.#events.push(parsed.data);
    this.#lines.push(raw);
    return this.#events.length >= batchSize;
  }

  /** Inserts what is held; the token is the content hash unless given. */
  async flush(token?: string): Promise<void> {
    if (this.#events.length === 0) return;
    const dedup = token ?? `backfill/${sha256HexSync(this.#lines.join("\n"))}`;
    await insertEvents(this.ch, this.#events, dedup);
    this.stats.inserted += this.#events.length;
    this.#events = [];
    this.#lines = [];
  }
}

/** What every backfill takes: the time range to keep, and where progress lines go. */
export interface BackfillRun {
  range: BackfillRange;
  onProgress?: (line: string) => void;
}

/** A topic to replay, from `fromOffset` of every partition ("earliest" for the oldest kept). */
export interface KafkaSource {
  brokers: string[];
  topic: string;
  fromOffset: bigint | "earliest";
}

/** Replays a JSONL file of RequestEvents within `range`. */
export async function backfillFromJsonl(
  ch: ClickHouse,
  { file, range, onProgress }: { file: string } & BackfillRun,
): Promise<BackfillStats> {
  const size = statSync(file).size;
  const stream = createReadStream(file);
  const batcher = new Batcher(ch, range);
  for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line.trim() === "") continue;
    if (batcher.add(line)) {
      await batcher.flush();
      onProgress?.(progressLine(stream.bytesRead, size, batcher.stats.inserted));
    }
  }
  await batcher.flush();
  onProgress?.(progressLine(size, size, batcher.stats.inserted));
  return batcher.stats;
}

/** Replays a topic from `fromOffset` (every partition; "earliest" for the oldest kept) to its end now. */
export async function backfillFromKafka(
  ch: ClickHouse,
  { brokers, topic, fromOffset, range, onProgress }: KafkaSource & BackfillRun,
): Promise<BackfillStats> {
  const consumer = new Consumer({
    clientId: "tiergate-backfill",
    groupId: `tiergate-backfill-${randomUUID()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    autocommit: false,
  });
  const batcher = new Batcher(ch, range);
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const starts =
      fromOffset === "earliest"
        ? ((await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [])
        : ends.map(() => fromOffset);
    const wanted = ends.map((end, p) => (end > (starts[p] ?? 0n) ? end - (starts[p] ?? 0n) : 0n));
    const total = Number(wanted.reduce((a, b) => a + b, 0n));
    if (total === 0) return batcher.stats;
    const offsets = ends.map((_, partition) => ({ topic, partition, offset: starts[partition] ?? 0n }));
    const stream = await consumer.consume({ topics: [topic], mode: "manual", offsets, autocommit: false });
    const remaining = new Map(ends.map((end, p) => [p, end] as const));
    let consumed = 0;
    let first = new Map<number, bigint>();
    let last = new Map<number, bigint>();
    const tokenOf = () =>
      `${topic}/backfill/${[...last.keys()]
        .sort((a, b) => a - b)
        .map((p) => `${p}:${first.get(p)}-${last.get(p)}`)
        .join(",")}`;
    for await (const message of stream) {
      consumed++;
      if (!first.has(message.partition)) first.set(message.partition, message.offset);
      last.set(message.partition, message.offset);
      if (batcher.add(message.value ?? "")) {
        await batcher.flush(tokenOf());
        first = new Map();
        last = new Map();
        onProgress?.(progressLine(consumed, total, batcher.stats.inserted));
      }
      if (message.offset + 1n >= (remaining.get(message.partition) ?? 0n))
        remaining.delete(message.partition);
      if ([...remaining.keys()].every((p) => (wanted[p] ?? 0n) === 0n)) break;
    }
    await batcher.flush(tokenOf());
    onProgress?.(progressLine(total, total, batcher.stats.inserted));
    await stream.close();
    return batcher.stats;
  } catch (error: unknown) {
    throw toKafkaError("backfilling events", error);
  } finally {
    await consumer.close(true).catch(() => undefined);
  }
}
