import { Producer, stringSerializers } from "@platformatic/kafka";
import { DependencyError } from "../../shared/dependency-error.ts";
import { type FeedbackEvent, topics } from "../../shared/events.ts";
import { withRetry } from "../../shared/retry.ts";
import { toKafkaError } from "../events/kafka-client.ts";

export interface FeedbackPublisherOptions {
  brokers: string[];
  clientId?: string;
  /** Default `tiergate.feedback`. */
  topic?: string;
  /** Attempts per publish (retryable Kafka errors only). Default 3. */
  attempts?: number;
  /** Upper bound of one send. Default 5 s. */
  timeoutMs?: number;
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Publishes feedback to Kafka (key = tenant) and waits for the broker's acknowledgement, retrying
 * retryable failures. Unlike request events, feedback is not spooled: the caller learns at once that it
 * was not stored (a retryable DependencyError → 503 with Retry-After) and can send it again.
 */
export class FeedbackPublisher {
  readonly #producer: Producer<string, string, string, string>;
  readonly #topic: string;
  readonly #attempts: number;
  readonly #timeoutMs: number;
  readonly #onRetry: FeedbackPublisherOptions["onRetry"];

  constructor(options: FeedbackPublisherOptions) {
    this.#topic = options.topic ?? topics.feedback;
    this.#attempts = options.attempts ?? 3;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#onRetry = options.onRetry;
    this.#producer = new Producer({
      clientId: options.clientId ?? "tiergate-feedback",
      bootstrapBrokers: options.brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      retries: 1,
      retryDelay: 100,
      timeout: this.#timeoutMs,
    });
  }

  async publish(events: readonly FeedbackEvent[]): Promise<void> {
    if (events.length === 0) return;
    const messages = events.map((event) => ({
      topic: this.#topic,
      key: event.tenant,
      value: JSON.stringify(event),
    }));
    await withRetry(
      async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        // The client may keep reconnecting to a dead broker: each attempt is bounded here.
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new DependencyError("kafka", true, `publishing feedback: no ack in ${this.#timeoutMs} ms`),
              ),
            this.#timeoutMs,
          );
        });
        try {
          await Promise.race([this.#producer.send({ messages }), timeout]);
        } catch (error: unknown) {
          throw toKafkaError("publishing feedback", error);
        } finally {
          clearTimeout(timer);
        }
      },
      { attempts: this.#attempts, baseDelayMs: 100, maxDelayMs: 1_000, onRetry: this.#onRetry },
    );
  }

  async close(): Promise<void> {
    await this.#producer.close(true).catch(() => undefined);
  }
}
