import { Producer, stringSerializers } from "@platformatic/kafka";
import type { DependencyError } from "../../shared/dependency-error.ts";
import { type RequestEvent, requestEventSchema, topics } from "../../shared/events.ts";
import { withRetry } from "../../shared/retry.ts";
import { type EventCompression, toKafkaError } from "./kafka-client.ts";
import { Spool } from "./spool.ts";
import type { RequestEventPublisher } from "./types.ts";

export interface EventProducerOptions {
  brokers: string[];
  clientId?: string;
  /** Where events wait while Kafka is unreachable (SPOOL_DIR). */
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
  /** Told about each failure that sent events to the spool (for logs and metrics). */
  onError?: (error: DependencyError) => void;
  /** Told about each published event, synchronously (metrics counters); must not throw. */
  onPublish?: (event: RequestEvent) => void;
}

export interface EventProducerStats {
  /** Events in memory, not yet handed to Kafka or the spool. */
  buffered: number;
  /** Events in a produce request right now. */
  inFlight: number;
  spooledEvents: number;
  spooledBytes: number;
  /** Events lost: dropped by the full spool, unreadable spool lines, or a failing spool disk. */
  dropped: number;
  /** Events acknowledged by Kafka. */
  sent: number;
  /** Whether the last produce attempt failed (Kafka presumed down until a replay succeeds). */
  kafkaDown: boolean;
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
 */
export class EventProducer implements RequestEventPublisher {
  readonly #options: Required<Omit<EventProducerOptions, "onError" | "onPublish" | "spoolSegmentBytes">> &
    Pick<EventProducerOptions, "onError" | "onPublish">;
  readonly #spool: Spool;
  readonly #producer: Producer<string, string, string, string>;
  #buffer: RequestEvent[] = [];
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #pumping: Promise<void> | undefined;
  #inFlight = 0;
  #sent = 0;
  #lost = 0;
  #kafkaDown = false;
  #closed = false;
  #replayTimer: ReturnType<typeof setTimeout> | undefined;
  #replaying: Promise<void> | undefined;
  #replayDelayMs: number;
  #pendingSpoolWrites: Promise<void> = Promise.resolve();
  #spoolWritesPending = 0;

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
      ...options,
    };
    this.#spool = new Spool({
      dir: this.#options.spoolDir,
      maxBytes: this.#options.spoolMaxBytes,
      segmentBytes: options.spoolSegmentBytes,
    });
    this.#replayDelayMs = this.#options.replayBackoffMs;
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
   * Creates a producer at once; its spool opens in the background and whatever an earlier process left
   * there is replayed first. An unusable spool directory is reported through `onError`.
   */
  static start(options: EventProducerOptions): EventProducer {
    const producer = new EventProducer(options);
    producer.#spool.ready().then(
      () => {
        if (!producer.#spool.isEmpty()) producer.#scheduleReplay(0);
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

  /** Queues an event. Never blocks, never throws; after `close` the event is counted as dropped. */
  publish(event: RequestEvent): void {
    this.#options.onPublish?.(event);
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

  /** Flushes, stops the replay loop and closes the Kafka client. Spooled events stay on disk for the next start. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#replayTimer);
    await this.#replaying;
    await this.#producer.close(true).catch(() => undefined);
  }

  stats(): EventProducerStats {
    const spool = this.#spool.stats();
    return {
      buffered: this.#buffer.length,
      inFlight: this.#inFlight,
      spooledEvents: spool.records,
      spooledBytes: spool.bytes,
      dropped: spool.dropped + this.#lost,
      sent: this.#sent,
      kafkaDown: this.#kafkaDown,
    };
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
      // While the spool holds events, new ones queue behind them so that Kafka gets publish order.
      if (this.#kafkaDown || !this.#spool.isEmpty() || this.#spoolWritesPending > 0) {
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

  async #send(batch: readonly RequestEvent[]): Promise<void> {
    const messages = batch.map((event) => ({
      topic: this.#options.topic,
      key: event.tenant,
      value: JSON.stringify(event),
    }));
    this.#inFlight += batch.length;
    try {
      await withRetry(
        async () => {
          try {
            await withTimeout(this.#producer.send({ messages }), this.#options.sendTimeoutMs);
          } catch (error: unknown) {
            throw toKafkaError("producing request events", error);
          }
        },
        { attempts: 2, baseDelayMs: 100, maxDelayMs: 500 },
      );
      this.#sent += batch.length;
    } finally {
      this.#inFlight -= batch.length;
    }
  }

  /** Appends to the spool in call order; a failing disk loses the batch (counted), never throws. */
  #spoolBatch(batch: RequestEvent[]): void {
    if (batch.length === 0) return;
    this.#spoolWritesPending++;
    this.#pendingSpoolWrites = this.#spool
      .append(batch)
      .catch(() => {
        this.#lost += batch.length;
      })
      .finally(() => {
        this.#spoolWritesPending--;
        this.#scheduleReplay(this.#kafkaDown ? this.#replayDelayMs : 0);
      });
  }

  #markDown(error: DependencyError): void {
    this.#kafkaDown = true;
    this.#options.onError?.(error);
  }

  #scheduleReplay(delayMs: number): void {
    if (this.#closed || this.#replayTimer !== undefined || this.#replaying) return;
    this.#replayTimer = setTimeout(() => {
      this.#replayTimer = undefined;
      this.#replaying = this.#replay().finally(() => {
        this.#replaying = undefined;
        if (!this.#spool.isEmpty()) this.#scheduleReplay(this.#replayDelayMs);
      });
    }, delayMs);
  }

  /** Sends the spool oldest first until it is empty or a send fails (then backs off). */
  async #replay(): Promise<void> {
    try {
      for (;;) {
        if (this.#closed) return;
        await this.#pendingSpoolWrites;
        const { records, corrupt, position } = await this.#spool.read(this.#options.maxBatchSize);
        const events = records.flatMap((record) => {
          const parsed = requestEventSchema.safeParse(record);
          return parsed.success ? [parsed.data] : [];
        });
        this.#lost += corrupt + records.length - events.length;
        if (events.length > 0) await this.#send(events);
        await this.#spool.commit(position);
        if (records.length === 0 && corrupt === 0) break; // nothing readable now; the next round retries
        if (this.#spool.isEmpty() && this.#spoolWritesPending === 0) break;
      }
      this.#kafkaDown = false;
      this.#replayDelayMs = this.#options.replayBackoffMs;
    } catch (error: unknown) {
      this.#markDown(toKafkaError("replaying spooled request events", error));
      this.#replayDelayMs = Math.min(30_000, this.#replayDelayMs * 2);
    }
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
