import type { TracingConfig } from "../../../shared/tracing.ts";
import { LingerBatch } from "../linger-batch.ts";
import type { Attributes, AttributeValue, SpanRecord } from "./span.ts";

/**
 * OTLP/HTTP JSON export of the edge's spans. The official exporter's browser build rests on the SDK's
 * timer-driven batch processor, which cannot hand its sends to `waitUntil`; this one queues spans of
 * concurrent requests (LingerBatch) and returns the send to the request that started it, so the send
 * runs after that response in its `waitUntil`.
 */

type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] } };

function anyValue(value: AttributeValue): AnyValue {
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "number")
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  return { arrayValue: { values: value.map((v) => ({ stringValue: v })) } };
}

function keyValues(attributes: Attributes): { key: string; value: AnyValue }[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

/** The OTLP/JSON `ExportTraceServiceRequest` of `spans` from one service. */
export function otlpTraceRequest(serviceName: string, spans: readonly SpanRecord[]): unknown {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: keyValues({ "service.name": serviceName, "service.namespace": "tiergate" }),
        },
        scopeSpans: [
          {
            scope: { name: "tiergate-edge" },
            spans: spans.map((span) => ({
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              name: span.name,
              kind: span.kind,
              startTimeUnixNano: span.startNs,
              endTimeUnixNano: span.endNs,
              attributes: keyValues(span.attributes),
              status: span.status,
            })),
          },
        ],
      },
    ],
  };
}

const lingerMs = 20;
const maxSpansPerCall = 512;
const exportTimeoutMs = 5_000;

/** Sends batches of spans to the collector; one instance per isolate. */
export class EdgeTraceExporter {
  readonly #batch: LingerBatch<SpanRecord>;

  constructor(
    private readonly config: TracingConfig,
    private readonly send: (url: string, init: RequestInit) => Promise<Response> = (url, init) =>
      fetch(url, init),
  ) {
    this.#batch = new LingerBatch((spans) => this.#post(spans), lingerMs, maxSpansPerCall);
  }

  /** Sampling settings, for the request middleware. */
  get ratio(): number {
    return this.config.ratio;
  }

  /** Queues a request's spans; returns the send when these started one (hand it to `waitUntil`). */
  export(spans: readonly SpanRecord[]): Promise<void> | null {
    let started: Promise<void> | null = null;
    for (const span of spans) started = this.#batch.add(span) ?? started;
    return started;
  }

  async #post(spans: SpanRecord[]): Promise<void> {
    const response = await this.send(this.config.url, {
      method: "POST",
      headers: { ...this.config.headers, "content-type": "application/json" },
      body: JSON.stringify(otlpTraceRequest(this.config.serviceName, spans)),
      signal: AbortSignal.timeout(exportTimeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) throw new Error(`trace export answered ${response.status}`);
  }
}
