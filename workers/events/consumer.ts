import { Consumer, type MessagesStream, stringDeserializers } from "@platformatic/kafka";
import { feedbackEventSchema, requestEventSchema, topics } from "../../shared/events.ts";
import type { Logger } from "../../shared/logger.ts";
import { withRetry } from "../../shared/retry.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import { eventsTable } from "../clickhouse/events.ts";
import { type DeadLetter, DeadLetterQueue } from "./dead-letter.ts";
import { type EventMessage, type IngestSink, insertIsolating, PendingBatch } from "./ingest-batch.ts";
import { toKafkaError } from "./kafka-client.ts";

export type { IngestSink } from "./ingest-batch.ts";

type EventStream = MessagesStream<string, string, string, string>;

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
  /** Where rejected messages go, with the reason. Default `tiergate.dead-letter`. */
  deadLetterTopic?: string;
  /** A batch is inserted when it holds this many events… Default 10,000. */
  maxBatchEvents?: number;
  /** …or when its first event has waited this long. Default 200 ms. */
  maxBatchWaitMs?: number;
  /** First pause after a failed insert or a lost Kafka session; doubles up to 10 s. Default 250 ms. */
  retryBaseMs?: number;
  /** Told about every failure (insert, commit, Kafka session); ingest carries on by itself. */
  onError?: (error: unknown) => void;
  logger?: Logger;
}

export interface IngestStats {
  /** Rows inserted into ClickHouse, all sinks (a redelivered event counts again; the table dedups). */
  inserted: number;
  batches: number;
  /** Messages that were not JSON or did not match their sink's schema; dead-lettered and committed. */
  invalid: number;
  /** Valid rows ClickHouse refused; dead-lettered and committed. */
  refused: number;
  /** Messages published to the dead-letter topic (`invalid` + `refused`). */
  deadLettered: number;
  insertRetries: number;
}

export interface Ingest {
  /** Finishes the batch in hand (insert + commit), then leaves the group. */
  stop(): Promise<void>;
  stats(): IngestStats;
}

type Options = Required<Omit<IngestConfig, "topic" | "sinks" | "onError" | "logger" | "deadLetterTopic">> &
  Pick<IngestConfig, "onError" | "logger">;

/** The state one ingest run shares across its steps. */
interface Run {
  options: Options;
  sinks: readonly IngestSink[];
  sinkByTopic: Map<string, IngestSink>;
  deadLetters: DeadLetterQueue;
  stats: IngestStats;
  /** Aborted by `stop`: ends retries and the session loop. */
  stop: AbortController;
  /** Ends the current session's drain (set while one runs). */
  wake?: () => void;
}

/**
 * Reads request events (and feedback) from Kafka and inserts them into ClickHouse in batches. Offsets are
 * committed only after the insert succeeded (at least once): a crash between the two re-reads the batch,
 * and `events` (ReplacingMergeTree on event_id) folds the copies. While ClickHouse is down the batch is
 * retried with backoff, forever, with the stream paused: nothing is dropped and nothing is committed.
 * Messages that cannot be stored (invalid, or rows ClickHouse refuses) go to the dead-letter topic with
 * the reason, so they never stall ingest.
 */
export function startIngest(config: IngestConfig): Ingest {
  const run = createRun(config);
  const loop = withRetry(() => runSession(run), {
    attempts: Number.POSITIVE_INFINITY,
    baseDelayMs: run.options.retryBaseMs,
    maxDelayMs: 10_000,
    shouldRetry: () => true,
    onRetry: (error) => run.options.onError?.(toKafkaError("ingest session", error)),
    signal: run.stop.signal,
  }).catch(() => undefined); // only once stopped

  return {
    async stop() {
      run.stop.abort();
      run.wake?.();
      await loop;
      await run.deadLetters.close();
    },
    stats: () => ({ ...run.stats }),
  };
}

function createRun(config: IngestConfig): Run {
  const options: Options = {
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
  return {
    options,
    sinks,
    sinkByTopic: new Map(sinks.map((sink) => [sink.topic, sink])),
    deadLetters: new DeadLetterQueue({
      brokers: config.brokers,
      clientId: `${options.clientId}-dead-letters`,
      topic: config.deadLetterTopic,
    }),
    stats: { inserted: 0, batches: 0, invalid: 0, refused: 0, deadLettered: 0, insertRetries: 0 },
    stop: new AbortController(),
  };
}

/** One consumer session: resolves once ingest stops, rejects when the Kafka stream fails. */
async function runSession(run: Run): Promise<void> {
  if (run.stop.signal.aborted) return;
  const consumer = new Consumer({
    clientId: run.options.clientId,
    groupId: run.options.groupId,
    bootstrapBrokers: run.options.brokers,
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
      topics: run.sinks.map((sink) => sink.topic),
      mode: "committed",
      fallbackMode: "earliest",
      autocommit: false,
      maxWaitTime: Math.min(500, run.options.maxBatchWaitMs),
    });
    await drain(run, stream);
  } finally {
    run.wake = undefined;
    await stream?.close().catch(() => undefined);
    await consumer.close(true).catch(() => undefined);
  }
}

/**
 * Collects messages into batches and stores them one at a time (insert, dead letters, commit), in order.
 * The next batch is collected while one is stored (fetching and decoding overlap ClickHouse's insert);
 * when it is full before the store ends, the stream pauses, so at most two batches are in memory (and
 * while ClickHouse is down, nothing more is read). Resolves when ingest stops, rejects when the stream
 * fails; either way the batches in hand are stored first.
 */
function drain(run: Run, stream: EventStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let pending = new PendingBatch();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let busy: Promise<void> | undefined;
    let ended = false;

    const schedule = () => {
      if (pending.size >= run.options.maxBatchEvents) void flush();
      else if (pending.messages > 0) timer ??= setTimeout(() => void flush(), run.options.maxBatchWaitMs);
    };
    const flush = (): Promise<void> => {
      clearTimeout(timer);
      timer = undefined;
      if (busy) {
        if (pending.size >= run.options.maxBatchEvents) stream.pause();
        return busy;
      }
      if (pending.messages === 0) return Promise.resolve();
      const batch = pending;
      pending = new PendingBatch();
      busy = storeAndCommit(run, batch).finally(() => {
        busy = undefined;
        if (!run.stop.signal.aborted && !ended) stream.resume();
        schedule();
      });
      return busy;
    };
    const finish = async (error?: unknown) => {
      if (ended) return;
      ended = true;
      stream.pause();
      while (busy || pending.messages > 0) await flush();
      if (error === undefined) resolve();
      else reject(error);
    };

    run.wake = () => void finish();
    stream.on("data", (message: EventMessage) => {
      pending.add(message, run.sinkByTopic.get(message.topic));
      schedule();
    });
    stream.once("error", (error: Error) => void finish(toKafkaError("consuming request events", error)));
    stream.once(
      "close",
      () => void finish(run.stop.signal.aborted ? undefined : new Error("kafka stream closed")),
    );
    if (run.stop.signal.aborted) void finish();
  });
}

/** Stores a batch (retried until it succeeds or ingest stops), then commits its offsets. */
async function storeAndCommit(run: Run, batch: PendingBatch): Promise<void> {
  const stored = await withRetry(() => storeBatch(run, batch), {
    attempts: Number.POSITIVE_INFINITY,
    baseDelayMs: run.options.retryBaseMs,
    maxDelayMs: 10_000,
    shouldRetry: () => true,
    onRetry: (error) => {
      run.stats.insertRetries++;
      run.options.onError?.(error);
    },
    signal: run.stop.signal,
  }).then(
    () => true,
    (error: unknown) => {
      run.options.onError?.(error);
      return false; // stopped while retrying: nothing committed, the next owner re-reads the batch
    },
  );
  if (stored) await commitBatch(run, batch);
}

/**
 * Inserts the batch sink by sink, then publishes what was rejected to the dead-letter topic. A retry
 * repeats the whole step: inserts done before carry the same tokens and ClickHouse drops them.
 */
async function storeBatch(run: Run, batch: PendingBatch): Promise<void> {
  const refused: DeadLetter[] = [];
  for (const sink of run.sinks) {
    const entries = batch.entries.get(sink.topic) ?? [];
    refused.push(
      ...(await insertIsolating(run.options.clickhouse, sink, entries, batch.dedupToken(sink.topic))),
    );
  }
  const letters = [...batch.rejected, ...refused];
  await run.deadLetters.publish(letters);
  run.stats.inserted += batch.size - refused.length;
  run.stats.batches++;
  run.stats.invalid += batch.rejected.length;
  run.stats.refused += refused.length;
  run.stats.deadLettered += letters.length;
  if (letters.length > 0) {
    run.options.logger?.warn("ingest: messages dead-lettered", {
      count: letters.length,
      reason: letters[0]?.reason,
    });
  }
}

async function commitBatch(run: Run, batch: PendingBatch): Promise<void> {
  await Promise.all(
    [...batch.last.values()].map(async (message) => {
      try {
        await message.commit();
      } catch (error: unknown) {
        // Lost the partition in a rebalance: its next owner re-reads and the table dedups.
        run.options.onError?.(toKafkaError("committing ingest offsets", error));
      }
    }),
  );
}
