import { Consumer, type Message, type MessagesStream, stringDeserializers } from "@platformatic/kafka";
import type { DependencyError } from "../../shared/dependency-error.ts";
import { type RequestEvent, requestEventSchema, topics } from "../../shared/events.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import { insertEvents } from "../clickhouse/events.ts";
import { toKafkaError } from "./kafka-client.ts";

type EventMessage = Message<string, string, string, string>;
type EventStream = MessagesStream<string, string, string, string>;

export interface IngestConfig {
  brokers: string[];
  clickhouse: ClickHouse;
  groupId?: string;
  clientId?: string;
  topic?: string;
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
  /** Events inserted into ClickHouse (a redelivered event counts again; the table dedups). */
  inserted: number;
  batches: number;
  /** Messages that were not valid RequestEvents; skipped and committed. */
  invalid: number;
  insertRetries: number;
}

export interface Ingest {
  /** Finishes the batch in hand (insert + commit), then leaves the group. */
  stop(): Promise<void>;
  stats(): IngestStats;
}

interface Pending {
  events: RequestEvent[];
  /** The last message per partition: committing it commits everything before it. */
  last: Map<number, EventMessage>;
  ranges: Map<number, [bigint, bigint]>;
}

const emptyPending = (): Pending => ({ events: [], last: new Map(), ranges: new Map() });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads request events from Kafka and inserts them into ClickHouse `events` in batches. Offsets are
 * committed only after the insert succeeded (at least once): a crash between the two re-reads the batch,
 * and `events` (ReplacingMergeTree on event_id) folds the copies. While ClickHouse is down the batch is
 * retried with backoff, forever, with the stream paused: nothing is dropped and nothing is committed.
 */
export function startIngest(config: IngestConfig): Ingest {
  const options = {
    groupId: "tiergate-ingest",
    clientId: "tiergate-ingest",
    topic: topics.requestEvents,
    maxBatchEvents: 10_000,
    maxBatchWaitMs: 200,
    retryBaseMs: 250,
    ...config,
  };
  const stats: IngestStats = { inserted: 0, batches: 0, invalid: 0, insertRetries: 0 };
  let stopping = false;
  let wake: (() => void) | undefined;
  const report = (error: unknown) => options.onError?.(error);

  /** Inserts until it succeeds or ingest stops; returns whether it was inserted. */
  async function insertBatch(batch: Pending): Promise<boolean> {
    const token = [...batch.ranges.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, [first, last]]) => `${partition}:${first}-${last}`)
      .join(",");
    let delay = options.retryBaseMs;
    for (;;) {
      try {
        if (batch.events.length > 0)
          await insertEvents(options.clickhouse, batch.events, `${options.topic}/${token}`);
        stats.inserted += batch.events.length;
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
        topics: [options.topic],
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
          if (pending.events.length >= options.maxBatchEvents) void flush();
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
        const parsed = safeParseEvent(message.value);
        if (parsed) pending.events.push(parsed);
        else stats.invalid++;
        pending.last.set(message.partition, message);
        const range = pending.ranges.get(message.partition);
        pending.ranges.set(message.partition, [range?.[0] ?? message.offset, message.offset]);
        if (pending.events.length >= options.maxBatchEvents) void flush();
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

function safeParseEvent(value: string | undefined): RequestEvent | undefined {
  if (!value) return undefined;
  try {
    const parsed = requestEventSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
