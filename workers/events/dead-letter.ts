import { Producer, stringSerializers } from "@platformatic/kafka";
import { topics } from "../../shared/events.ts";
import { toKafkaError } from "./kafka-client.ts";
import { ensureTopics, topicSpecs } from "./topics.ts";

/** A message ingest could not store, and why. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: bigint;
  key?: string;
  /** The message as it was read (undefined for a message without a value). */
  value?: string;
  /** Where it was going, if a sink was known. */
  table?: string;
  reason: string;
}

/** What a dead-lettered message carries on the dead-letter topic (JSON value; key = the original key). */
export interface DeadLetterRecord {
  source_topic: string;
  source_partition: number;
  /** The source offset, as a string (a 64-bit integer). */
  source_offset: string;
  table: string;
  reason: string;
  value: string | null;
  /** Epoch milliseconds. */
  dead_lettered_at: number;
}

/** Options of {@link DeadLetterQueue}. */
export interface DeadLetterOptions {
  brokers: string[];
  clientId: string;
  /** Default `tiergate.dead-letter`. */
  topic?: string;
}

/**
 * Publishes messages ingest rejected (invalid JSON, a schema mismatch, a row ClickHouse refuses) to a
 * dead-letter topic, so one bad message never stalls ingest and none vanishes silently. The topic is
 * created on first use. `publish` throws DependencyError("kafka", …); ingest retries and commits the
 * source offsets only after the letters are acknowledged.
 */
export class DeadLetterQueue {
  readonly #options: DeadLetterOptions;
  readonly #topic: string;
  #producer: Producer<string, string, string, string> | undefined;
  #topicReady: Promise<void> | undefined;

  constructor(options: DeadLetterOptions) {
    this.#options = options;
    this.#topic = options.topic ?? topics.deadLetter;
  }

  /** Sends the letters and waits for Kafka's acknowledgement. */
  async publish(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    try {
      await this.#ensureTopic();
      this.#producer ??= new Producer({
        clientId: this.#options.clientId,
        bootstrapBrokers: this.#options.brokers,
        serializers: stringSerializers,
        idempotent: true,
        acks: -1,
        autocreateTopics: false,
        retries: 2,
        retryDelay: 200,
      });
      await this.#producer.send({
        messages: letters.map((letter) => ({
          topic: this.#topic,
          key: letter.key ?? letter.topic,
          value: JSON.stringify(deadLetterRecord(letter)),
        })),
      });
    } catch (error: unknown) {
      throw toKafkaError("publishing dead letters", error);
    }
  }

  async close(): Promise<void> {
    await this.#producer?.close(true).catch(() => undefined);
  }

  #ensureTopic(): Promise<void> {
    const spec = topicSpecs.find((s) => s.name === topics.deadLetter);
    const wanted =
      spec && this.#topic === spec.name ? spec : { name: this.#topic, partitions: 3, configs: {} };
    this.#topicReady ??= ensureTopics(this.#options.brokers, [wanted]).catch((error: unknown) => {
      this.#topicReady = undefined;
      throw error;
    });
    return this.#topicReady;
  }
}

function deadLetterRecord(letter: DeadLetter): DeadLetterRecord {
  return {
    source_topic: letter.topic,
    source_partition: letter.partition,
    source_offset: letter.offset.toString(),
    table: letter.table ?? "",
    reason: letter.reason.slice(0, 2_000),
    value: letter.value ?? null,
    dead_lettered_at: Date.now(),
  };
}
