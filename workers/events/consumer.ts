import { Consumer, type Message, type MessagesStream, stringDeserializers } from "@platformatic/kafka";
import type { z } from "zod";
import type { DependencyError } from "../../shared/dependency-error.ts";
import { feedbackEventSchema, requestEventSchema, topics } from "../../shared/events.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import { eventsTable } from "../clickhouse/events.ts";
import { toKafkaError } from "./kafka-client.ts";

type EventMessage = Message<string, string, string, string>;
type EventStream = MessagesStream<string, string, string, string>;

/**
 * Where one topic's messages go: each value is validated with `schema` (whose fields equal the table's
 * columns) and inserted into `table`; invalid values are counted and skipped.
 */
export interface IngestSink {
  topic: string;
  table: string;
  schema: z.ZodType<Record<string, unknown>>;
}

/** Request events into `events`, feedback into `feedback`: what the pool's ingest process runs. */
export const defaultSinks: readonly IngestSink[] = [
  { topic: topics.requestEvents, table: eventsTable, schema: requestEventSchema },
  { topic: topics.feedback, table: "feedback", schema: feedbackEventSchema },
];

export interface IngestConfig {
  brokers: string[];
  clickhouse: ClickHouse;
  groupId?: string;
  clientId?: string;
  /** Shorthand for one sink: request events from this topic into `events`. */
  topic?: string;
  /** Topics and their tables; default `defaultSinks`. Ignored when `topic` is given. */
  sinks?: readonly IngestSink[];
  /** A batch is inserted when it holds this many events… Default 10,000. */
  maxBatchEvents?: number;
  /** …or when its first event has waited this long. Default 200 ms. */
  maxBatchWaitMs?: number;
  /** First pause after a failed insert or a lost Kafka session; doubles up to 10 s. Default 250 ms. */
  retryBaseMs?: number;
  /** Told about every failure (insert, commit, Kafka session); ingest carries on by itself. */
  onError?: (error: unknown) => void;
}

export interface IngestStats {
  /** Rows inserted into ClickHouse, all sinks (a redelivered event counts again; the table dedups). */
  inserted: number;
  batches: number;
  /** Messages that did not match their sink's schema; skipped and committed. */
  invalid: number;
  insertRetries: number;
}

export interface Ingest {
  /** Finishes the batch in hand (insert + commit), then leaves the group. */
  stop(): Promise<void>;
  stats(): IngestStats;
}

interface Pending {
  /** Rows per sink topic. */
  rows: Map<string, Record<string, unknown>[]>;
  size: number;
  /** The last message per topic-partition: committing it commits everything before it. */
  last: Map<string, EventMessage>;
  /** First and last offset per topic-partition, for the insert deduplication token. */
  ranges: Map<string, Map<number, [bigint, bigint]>>;
}

const emptyPending = (): Pending => ({ rows: new Map(), size: 0, last: new Map(), ranges: new Map() });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads request events (and feedback) from Kafka and inserts them into ClickHouse in batches. Offsets are
 * committed only after the insert succeeded (at least once): a crash between the two re-reads the batch,
 * and `events` (ReplacingMergeTree on event_id) folds the copies. While ClickHouse is down the batch is
 * retried with backoff, forever, with the stream paused: nothing is dropped and nothing is committed.
 */
export function startIngest(config: IngestConfig): Ingest {
  const options = {
    groupId: "tiergate-ingest",
    clientId: "tiergate-ingest",
    maxBatchEvents: 10_000,
    maxBatchWaitMs: 200,
    retryBaseMs: 250,
    ...config,
  };
  const sinks: readonly IngestSink[] = config.topic
    ? [{ topic: config.topic, table: eventsTable, schema: requestEventSchema }]
    : (config.sinks ?? defaultSinks);
  const sinkByTopic = new Map(sinks.map((sink) => [sink.topic, sink]));
  const stats: IngestStats = { inserted: 0, batches: 0, invalid: 0, insertRetries: 0 };
  let stopping = false;
  let wake: (() => void) | undefined;
  const report = (error: unknown) => options.onError?.(error);

  /** Inserts until it succeeds or ingest stops; returns whether it was inserted. */
  async function insertBatch(batch: Pending): Promise<boolean> {
    let delay = options.retryBaseMs;
    for (;;) {
      try {
        // Sink by sink; after a partial failure the retry re-sends the done ones with the same token,
        // and ClickHouse drops them.
        for (const sink of sinks) {
          const rows = batch.rows.get(sink.topic) ?? [];
          if (rows.length === 0) continue;
          const token = [...(batch.ranges.get(sink.topic) ?? new Map()).entries()]
            .sort(([a], [b]) => a - b)
            .map(([partition, [first, last]]) => `${partition}:${first}-${last}`)
            .join(",");
          await options.clickhouse.insert(sink.table, rows, { dedupToken: `${sink.topic}/${token}` });
        }
        stats.inserted += batch.size;
        stats.batches++;
        return true;
      } catch (error: unknown) {
        report(error);
        if (stopping) return false;
        stats.insertRetries++;
        await sleep(Math.random() * delay);
        delay = Math.min(10_000, delay * 2);
      }
    }
  }

  async function commitBatch(batch: Pending): Promise<void> {
    await Promise.all(
      [...batch.last.values()].map(async (message) => {
        try {
          await message.commit();
        } catch (error: unknown) {
          // Lost the partition in a rebalance: its next owner re-reads and the table dedups.
          report(toKafkaError("committing ingest offsets", error));
        }
      }),
    );
  }

  /** One consumer session: consume until the stream fails or ingest stops. */
  async function session(): Promise<void> {
    const consumer = new Consumer({
      clientId: options.clientId,
      groupId: options.groupId,
      bootstrapBrokers: options.brokers,
      deserializers: stringDeserializers,
      autocommit: false,
      sessionTimeout: 20_000,
      heartbeatInterval: 2_000,
      retries: 2,
      retryDelay: 250,
    });
    let stream: EventStream | undefined;
    try {
      stream = await consumer.consume({
        topics: sinks.map((sink) => sink.topic),
        mode: "committed",
        fallbackMode: "earliest",
        autocommit: false,
        maxWaitTime: Math.min(500, options.maxBatchWaitMs),
      });
      await drain(stream);
    } finally {
      await stream?.close().catch(() => undefined);
      await consumer.close(true).catch(() => undefined);
    }
  }

  /** Collects messages into batches; resolves when stopping, rejects when the stream fails. */
  function drain(stream: EventStream): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let pending = emptyPending();
      let timer: ReturnType<typeof setTimeout> | undefined;
      let busy: Promise<void> | undefined;
      let failed = false;

      const flush = (): Promise<void> => {
        clearTimeout(timer);
        timer = undefined;
        if (busy) return busy;
        if (pending.last.size === 0) return Promise.resolve();
        const batch = pending;
        pending = emptyPending();
        stream.pause();
        busy = (async () => {
          if (await insertBatch(batch)) await commitBatch(batch);
        })().finally(() => {
          busy = undefined;
          if (!stopping && !failed) stream.resume();
          if (pending.size >= options.maxBatchEvents) void flush();
          else if (pending.last.size > 0) timer ??= setTimeout(() => void flush(), options.maxBatchWaitMs);
        });
        return busy;
      };

      const finish = async (error?: unknown) => {
        if (failed) return;
        failed = true;
        stream.pause();
        await flush();
        if (error === undefined) resolve();
        else reject(error);
      };

      wake = () => void finish();
      stream.on("data", (message: EventMessage) => {
        const sink = sinkByTopic.get(message.topic);
        const row = sink ? safeParse(sink.schema, message.value) : undefined;
        if (sink && row) {
          const rows = pending.rows.get(sink.topic) ?? [];
          rows.push(row);
          pending.rows.set(sink.topic, rows);
          pending.size++;
        } else {
          stats.invalid++;
        }
        pending.last.set(`${message.topic}/${message.partition}`, message);
        const ranges = pending.ranges.get(message.topic) ?? new Map<number, [bigint, bigint]>();
        const range = ranges.get(message.partition);
        ranges.set(message.partition, [range?.[0] ?? message.offset, message.offset]);
        pending.ranges.set(message.topic, ranges);
        if (pending.size >= options.maxBatchEvents) void flush();
        else timer ??= setTimeout(() => void flush(), options.maxBatchWaitMs);
      });
      stream.once("error", (error: Error) => void finish(toKafkaError("consuming request events", error)));
      stream.once("close", () => void finish(stopping ? undefined : new Error("kafka stream closed")));
      if (stopping) void finish();
    });
  }

  const loop = (async () => {
    let delay = options.retryBaseMs;
    while (!stopping) {
      try {
        await session();
        wake = undefined;
        delay = options.retryBaseMs;
      } catch (error: unknown) {
        if (stopping) break;
        report(toKafkaError("ingest session", error) satisfies DependencyError);
        await sleep(Math.random() * delay);
        delay = Math.min(10_000, delay * 2);
      }
    }
  })();

  return {
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
    stats: () => ({ ...stats }),
  };
}

function safeParse(
  schema: z.ZodType<Record<string, unknown>>,
  value: string | undefined,
): Record<string, unknown> | undefined {
  if (!value) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
