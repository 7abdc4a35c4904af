import type { RequestEvent } from "../../shared/events.ts";

/** What the event producer reports (metrics, `/ready`). */
export interface EventProducerStats {
  /** Events in memory, not yet handed to Kafka or the spool. */
  buffered: number;
  /** Events in a produce request right now. */
  inFlight: number;
  /** Events waiting on disk: this process's spool and the orphaned spools it is replaying. */
  spooledEvents: number;
  spooledBytes: number;
  /** Events lost: dropped by the full spool, unreadable spool lines, events Kafka refuses, a failing disk. */
  dropped: number;
  /** Events acknowledged by Kafka. */
  sent: number;
  /** Whether the last produce attempt failed (Kafka presumed down until a replay succeeds). */
  kafkaDown: boolean;
}

/**
 * Where the pool's request events go, off the request path: what request handlers, health and metrics
 * depend on. EventProducer (producer.ts: Kafka, with per-worker on-disk spools) implements it.
 */
export interface EventProducer {
  /** Queues an event. Never blocks, never throws. */
  publish(event: RequestEvent): void;
  /** Hands everything queued to Kafka or the disk spool, then releases the producer's resources. */
  close(): Promise<void>;
  /** Buffer, spool and delivery counters (health, metrics). */
  stats(): EventProducerStats;
}

/** The name request handlers use for the {@link EventProducer} boundary. */
export type RequestEventPublisher = EventProducer;
