import { Producer, stringSerializers } from "@platformatic/kafka";
import { DependencyError } from "../../shared/dependency-error.ts";
import { type RequestEvent, topics } from "../../shared/events.ts";
import type { Logger } from "../../shared/logger.ts";
import { withRetry } from "../../shared/retry.ts";
import { KafkaProduceTracing } from "../tracing/kafka.ts";
import { type EventCompression, toKafkaError } from "./kafka-client.ts";
import { OrphanSpools } from "./orphan-spools.ts";
import { Spool } from "./spool.ts";
import { claimSpoolDir, removeLockedDir, unlockDir } from "./spool-dirs.ts";
import { drainSpool } from "./spool-replay.ts";
import type { EventProducerStats, EventProducer as EventSink } from "./types.ts";

export type { EventProducerStats } from "./types.ts";

export interface EventProducerOptions {
  brokers: string[];
  clientId?: string;
  /**
   * The spool root (SPOOL_DIR), shared by every process of the pool: each producer claims a directory of
   * its own under it (`worker-<n>`, locked by pid) and adopts the directories of processes that died.
   */
  spoolDir: string;
  /** Bound of the on-disk spool; the oldest segments are dropped past it. Default 256 MiB. */
  spoolMaxBytes?: number;
  spoolSegmentBytes?: number;
  topic?: string;
  /** How long a partial batch waits for more events. Default 20 ms. */
  lingerMs?: number;
  /** Events per produce request. Default 2,000. */
  maxBatchSize?: number;
  /** In-memory events beyond which the buffer goes to the spool at once. Default 50,000. */
  maxBufferedEvents?: number;
  compression?: EventCompression;
  /** Upper bound of one send including the client's own retries. Default 10 s. */
  sendTimeoutMs?: number;
  /** First pause of the replay loop after a failed attempt; it doubles up to 30 s. Default 500 ms. */
  replayBackoffMs?: number;
  /** How often the spool root is scanned for orphaned directories. Default 15 s. */
  orphanScanMs?: number;
  /**
   * New batches queue behind a non-empty spool (publish order), unless the spool has not advanced for
   * this long while Kafka takes sends: then they go straight to Kafka. Default 60 s.
   */
  spoolStallMs?: number;
  /** Events whose JSON is larger than this are dropped (counted): Kafka refuses them. Default 1 MiB. */
  maxEventBytes?: number;
  logger?: Logger;
  /** Told about each failure that sent events to the spool (for logs and metrics). */
  onError?: (error: DependencyError) => void;
  /** Told about each published event, synchronously (metrics counters); must not throw. */
  onPublish?: (event: RequestEvent) => void;
}

/**
 * Publishes RequestEvents to Kafka off the request path.
 *
 * `publish` only appends to an in-memory buffer. A single pump sends it in batches (linger + max batch
 * size) with compression, an idempotent producer (acks = all), key = tenant. When a send still fails
 * after the client's and our retries, the batch goes to the on-disk spool, and so does every later batch
 * while the spool holds anything: events reach Kafka in publish order. A background loop replays the
 * spool oldest first with backoff. Delivery is at least once (a send that timed out may have landed);
 * consumers dedup on `event_id`.
 *
 * Each producer owns a spool directory of its own under `spoolDir` (see spool-dirs.ts) and replays the
 * directories of processes that died (orphan-spools.ts). A hard crash loses only what is in memory: the
 * buffer and the batch in flight (see the README's "What a crash can lose").
 */
export class EventProducer implements EventSink {
  readonly #options: Required<
    Omit<EventProducerOptions, "onError" | "onPublish" | "spoolSegmentBytes" | "logger">
  > &
    Pick<EventProducerOptions, "onError" | "onPublish" | "logger">;
  readonly #spool: Spool;
  readonly #orphans: OrphanSpools;
  readonly #producer: Producer<string, string, string, string>;
  readonly #abort = new AbortController();
  #buffer: RequestEvent[] = [];
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #pumping: Promise<void> | undefined;
  #inFlight = 0;
  #sent = 0;
  #lost = 0;
  #kafkaDown = false;
  #closed = false;
  #replaying: Promise<void> | undefined;
  #pendingSpoolWrites: Promise<void> = Promise.resolve();
  #spoolWritesPending = 0;
  /** When the spool last advanced (or last became non-empty); a spool idle past `spoolStallMs` is stalled. */
  #spoolProgressAt = Date.now();
  readonly #tracing: KafkaProduceTracing;

  private constructor(options: EventProducerOptions) {
    this.#options = {
      clientId: "tiergate-events",
      spoolMaxBytes: 256 << 20,
      topic: topics.requestEvents,
      lingerMs: 20,
      maxBatchSize: 2_000,
      maxBufferedEvents: 50_000,
      compression: "snappy",
      sendTimeoutMs: 10_000,
      replayBackoffMs: 500,
      orphanScanMs: 15_000,
      spoolStallMs: 60_000,
      maxEventBytes: 1 << 20,
      ...options,
    };
    this.#tracing = new KafkaProduceTracing(this.#options.topic);
    this.#spool = new Spool({
      dir: claimSpoolDir(this.#options.spoolDir),
      maxBytes: this.#options.spoolMaxBytes,
      segmentBytes: options.spoolSegmentBytes,
    });
    this.#orphans = new OrphanSpools({
      root: this.#options.spoolDir,
      send: (events) => this.#send(events),
      batchSize: this.#options.maxBatchSize,
      maxBytes: this.#options.spoolMaxBytes,
      scanIntervalMs: this.#options.orphanScanMs,
      backoffMs: this.#options.replayBackoffMs,
      onLost: (count, reason) => this.#loseEvents(count, reason),
      onError: (error) => this.#options.onError?.(error),
      logger: this.#options.logger,
    });
    this.#producer = new Producer({
      clientId: this.#options.clientId,
      bootstrapBrokers: this.#options.brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
      compression: this.#options.compression,
      autocreateTopics: false,
      retries: 2,
      retryDelay: 200,
      timeout: Math.min(5_000, this.#options.sendTimeoutMs),
    });
  }

  /**
   * Creates a producer at once; its spool directory is claimed and opened in the background, and
   * whatever an earlier process left there, or in an orphaned directory, is replayed first. An unusable
   * spool directory is reported through `onError`.
   */
  static start(options: EventProducerOptions): EventProducer {
    const producer = new EventProducer(options);
    producer.#spool.ready().then(
      () => {
        if (producer.#closed) return;
        if (!producer.#spool.isEmpty()) producer.#startReplay();
        producer.#orphans.start();
      },
      (error: unknown) => producer.#options.onError?.(toKafkaError("opening the event spool", error)),
    );
    return producer;
  }

  /** Like `start`, but waits until the spool is open (and fails if it cannot be). */
  static async create(options: EventProducerOptions): Promise<EventProducer> {
    const producer = EventProducer.start(options);
    await producer.#spool.ready();
    return producer;
  }

  /** The directory this producer spools to (empty until its spool is open). */
  spoolDir(): string {
    return this.#spool.dir();
  }

  /** Queues an event. Never blocks, never throws; after `close` the event is counted as dropped. */
  publish(event: RequestEvent): void {
    this.#options.onPublish?.(event);
    this.#tracing.published();
    if (this.#closed) {
      this.#lost++;
      return;
    }
    this.#buffer.push(event);
    if (this.#buffer.length >= this.#options.maxBufferedEvents) {
      this.#spoolBatch(this.#buffer.splice(0, this.#buffer.length));
    } else if (this.#buffer.length >= this.#options.maxBatchSize) {
      this.#startPump();
    } else {
      this.#lingerTimer ??= setTimeout(() => this.#startPump(), this.#options.lingerMs);
    }
  }

  /** Sends (or spools) everything buffered so far and waits for it. Never throws. */
  async flush(): Promise<void> {
    while (this.#buffer.length > 0 || this.#pumping) {
      this.#startPump();
      await this.#pumping;
    }
    await this.#pendingSpoolWrites;
  }

  /**
   * Flushes, stops the replay loops and closes the Kafka client. Spooled events stay on disk for the
   * next process (the directory is unlocked); an empty spool directory is removed.
   */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.#abort.abort();
    await Promise.all([this.#replaying, this.#orphans.stop()]);
    await this.#producer.close(true).catch(() => undefined);
    await this.#releaseSpoolDir().catch((error: unknown) =>
      this.#options.onError?.(toKafkaError("releasing the event spool", error)),
    );
  }

  stats(): EventProducerStats {
    const spool = this.#spool.stats();
    return {
      buffered: this.#buffer.length,
      inFlight: this.#inFlight,
      spooledEvents: spool.records + this.#orphans.pendingEvents(),
      spooledBytes: spool.bytes,
      dropped: spool.dropped + this.#lost,
      sent: this.#sent,
      kafkaDown: this.#kafkaDown,
    };
  }

  async #releaseSpoolDir(): Promise<void> {
    await this.#spool.ready();
    const dir = this.#spool.dir();
    if (this.#spool.isEmpty()) await removeLockedDir(this.#options.spoolDir, dir);
    else await unlockDir(dir);
  }

  #startPump(): void {
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = undefined;
      if (this.#buffer.length > 0 && !this.#closed) this.#startPump();
    });
  }

  async #pump(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#options.maxBatchSize);
      if (this.#behindSpool()) {
        this.#spoolBatch(batch);
        continue;
      }
      try {
        await this.#send(batch);
      } catch (error: unknown) {
        this.#markDown(toKafkaError("producing request events", error));
        this.#spoolBatch(batch);
      }
    }
  }

  /**
   * Whether a new batch must go to the spool: while Kafka is down, and while the spool holds events
   * (so that Kafka gets publish order) unless the spool has stalled with Kafka up.
   */
  #behindSpool(): boolean {
    if (this.#kafkaDown) return true;
    if (this.#spool.isEmpty() && this.#spoolWritesPending === 0) return false;
    return Date.now() - this.#spoolProgressAt < this.#options.spoolStallMs;
  }

  async #send(batch: readonly RequestEvent[]): Promise<void> {
    const messages = this.#messages(batch);
    if (messages.length === 0) return;
    this.#inFlight += batch.length;
    try {
      await this.#tracing.send(messages.length, () =>
        withRetry(
          async () => {
            try {
              await withTimeout(this.#producer.send({ messages }), this.#options.sendTimeoutMs);
            } catch (error: unknown) {
              throw toKafkaError("producing request events", error);
            }
          },
          { attempts: 2, baseDelayMs: 100, maxDelayMs: 500 },
        ),
      );
      this.#sent += messages.length;
    } finally {
      this.#inFlight -= batch.length;
    }
  }

  /** Kafka messages of a batch; an event too large for a message is dropped and counted. */
  #messages(batch: readonly RequestEvent[]): { topic: string; key: string; value: string }[] {
    const messages: { topic: string; key: string; value: string }[] = [];
    for (const event of batch) {
      const value = JSON.stringify(event);
      const max = this.#options.maxEventBytes;
      if (value.length > max / 3 && Buffer.byteLength(value) > max) {
        this.#loseEvents(1, new Error(`event ${event.event_id} is larger than ${max} bytes`));
        continue;
      }
      messages.push({ topic: this.#options.topic, key: event.tenant, value });
    }
    return messages;
  }

  #loseEvents(count: number, reason: unknown): void {
    this.#lost += count;
    this.#options.logger?.warn("request events dropped", { count, reason });
  }

  /** Appends to the spool in call order; a failing disk loses the batch (counted), never throws. */
  #spoolBatch(batch: RequestEvent[]): void {
    if (batch.length === 0) return;
    if (this.#spool.isEmpty() && this.#spoolWritesPending === 0) this.#spoolProgressAt = Date.now();
    this.#spoolWritesPending++;
    this.#pendingSpoolWrites = this.#spool
      .append(batch)
      .catch((error: unknown) => this.#loseEvents(batch.length, error))
      .finally(() => {
        this.#spoolWritesPending--;
        this.#startReplay();
      });
  }

  #markDown(error: DependencyError): void {
    this.#kafkaDown = true;
    this.#options.onError?.(error);
  }

  /**
   * Replays the spool until it is empty: retried with backoff (0.5 s doubling to 30 s, jittered) while
   * Kafka fails, until `close`.
   */
  #startReplay(): void {
    if (this.#closed || this.#replaying) return;
    this.#replaying = withRetry(() => this.#replayOnce(), {
      attempts: Number.POSITIVE_INFINITY,
      baseDelayMs: this.#options.replayBackoffMs,
      maxDelayMs: 30_000,
      shouldRetry: () => true,
      onRetry: (error) => {
        if (error instanceof DependencyError && error.dependency === "kafka") this.#markDown(error);
      },
      signal: this.#abort.signal,
    })
      .catch(() => undefined) // only when closing: the spool stays on disk
      .finally(() => {
        this.#replaying = undefined;
        if (!this.#spool.isEmpty() || this.#spoolWritesPending > 0) this.#startReplay();
      });
  }

  /** One pass over the spool; Kafka failures are DependencyErrors, others (disk, unreadable) are not. */
  async #replayOnce(): Promise<void> {
    await drainSpool({
      spool: this.#spool,
      send: (events) => this.#send(events),
      batchSize: this.#options.maxBatchSize,
      onLost: (count, reason) => this.#loseEvents(count, reason),
      onProgress: () => {
        this.#spoolProgressAt = Date.now();
      },
      stopped: () => this.#closed,
      beforeRead: () => this.#pendingSpoolWrites,
    });
    if (this.#spool.isEmpty()) this.#kafkaDown = false;
  }
}

/** Creates an EventProducer synchronously (for boot code); see `EventProducer.start`. */
export function createEventProducer(options: EventProducerOptions): EventProducer {
  return EventProducer.start(options);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
