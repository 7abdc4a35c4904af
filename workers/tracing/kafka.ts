import { type Link, SpanKind, trace } from "@opentelemetry/api";
import { attr } from "../../shared/trace-attributes.ts";
import { poolTracer, recordFailure } from "./spans.ts";

/** Links kept for the next batch at most; a send links to the first ones (a burst is not all linked). */
const maxLinks = 128;

/**
 * Kafka produce spans of a batching producer: each publish is a PRODUCER span in its request's trace,
 * ended at once (the event only joins the in-memory batch); the send of a batch is a span of its own
 * that links back to the publishes it carries, since one batch serves many traces.
 */
export class KafkaProduceTracing {
  #links: Link[] = [];

  constructor(private readonly topic: string) {}

  /** Records that an event was queued, under the active (request) span. */
  published(): void {
    if (!trace.getActiveSpan()?.isRecording()) return;
    const span = poolTracer().startSpan(`send ${this.topic}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        [attr.messagingSystem]: "kafka",
        [attr.messagingDestinationName]: this.topic,
        [attr.messagingOperationType]: "send",
        [attr.messagingOperationName]: "publish",
      },
    });
    span.end();
    if (this.#links.length < maxLinks) this.#links.push({ context: span.spanContext() });
  }

  /** A produce request of `count` messages as a CLIENT span linked to the publishes queued so far. */
  send<T>(count: number, call: () => Promise<T>): Promise<T> {
    const links = this.#links.splice(0);
    if (links.length === 0) return call();
    return poolTracer().startActiveSpan(
      `send ${this.topic}`,
      {
        kind: SpanKind.CLIENT,
        root: true,
        links,
        attributes: {
          [attr.messagingSystem]: "kafka",
          [attr.messagingDestinationName]: this.topic,
          [attr.messagingOperationType]: "send",
          [attr.messagingBatchMessageCount]: count,
        },
      },
      async (span) => {
        try {
          return await call();
        } catch (error: unknown) {
          recordFailure(span, error);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }
}
