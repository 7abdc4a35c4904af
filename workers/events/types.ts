import type { RequestEvent } from "../../shared/events.ts";
import type { EventProducerStats } from "./producer.ts";

/**
 * Where the pool's request events go: what request handlers, health and metrics depend on.
 * EventProducer (producer.ts: Kafka, with an on-disk spool) implements it.
 */
export interface RequestEventPublisher {
  /** Queues an event. Never blocks, never throws. */
  publish(event: RequestEvent): void;
  /** Sends (or spools) everything queued so far and waits for it. Never throws. */
  flush(): Promise<void>;
  /** Flushes and releases the client; events published after it are counted as dropped. */
  close(): Promise<void>;
  /** Buffer, spool and delivery counters (health, metrics). */
  stats(): EventProducerStats;
}
