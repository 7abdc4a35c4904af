import { formatTraceparent, type TraceParent } from "../../../shared/tracing.ts";

/** OTLP span kinds (the numbers OTLP/JSON uses). */
export const SpanKind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
export type SpanKindValue = (typeof SpanKind)[keyof typeof SpanKind];

export type AttributeValue = string | number | boolean | string[];
export type Attributes = Record<string, AttributeValue>;

/** A finished span, ready to encode as OTLP. Times are epoch nanoseconds as decimal strings. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string | undefined;
  name: string;
  kind: SpanKindValue;
  startNs: string;
  endNs: string;
  attributes: Attributes;
  /** 0 unset, 2 error (OTLP status codes). */
  status: { code: 0 | 2; message?: string };
}

/** Options of a new span. */
export interface SpanOptions {
  kind?: SpanKindValue;
  attributes?: Attributes;
  /** Defaults to the request's root span. */
  parent?: EdgeSpan;
}

/** Epoch nanoseconds now, as a decimal string (a double cannot hold them exactly). */
export function nowNs(): string {
  const t = performance.timeOrigin + performance.now();
  const ms = Math.floor(t);
  const ns = Math.min(999_999, Math.round((t - ms) * 1e6));
  return `${ms}${String(ns).padStart(6, "0")}`;
}

function randomHex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  let out = "";
  for (const byte of buffer) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** One span of a request at the edge. Unsampled requests get spans that record nothing. */
export class EdgeSpan {
  readonly #record: SpanRecord | null;
  readonly #done: (record: SpanRecord) => void;
  #ended = false;

  constructor(
    readonly traceId: string,
    readonly spanId: string,
    record: SpanRecord | null,
    done: (record: SpanRecord) => void,
  ) {
    this.#record = record;
    this.#done = done;
  }

  /** Whether this span is sampled (its attributes are worth computing). */
  get recording(): boolean {
    return this.#record !== null && !this.#ended;
  }

  setAttribute(name: string, value: AttributeValue | undefined): this {
    if (this.#record && value !== undefined) this.#record.attributes[name] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (this.#record) Object.assign(this.#record.attributes, attributes);
    return this;
  }

  /** Marks the span failed, with the error's name as `error.type`. */
  fail(error: unknown): this {
    if (!this.#record) return this;
    this.#record.attributes["error.type"] = error instanceof Error ? error.name : String(error);
    this.#record.status = {
      code: 2,
      message: error instanceof Error ? error.message : String(error),
    };
    return this;
  }

  /** Ends the span (once; later calls do nothing). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#record) return;
    this.#record.endNs = nowNs();
    this.#done(this.#record);
  }
}

/**
 * The spans of one request at the edge: a root SERVER span whose parent is the client's span (when it
 * sent a `traceparent`), and children made with `startSpan` / `inSpan`. Parent-based sampling: a
 * client's sampled flag decides; otherwise the request is sampled with probability `ratio`.
 */
export class RequestTrace {
  readonly traceId: string;
  readonly sampled: boolean;
  readonly root: EdgeSpan;
  readonly #ended: SpanRecord[] = [];
  #unsampled: EdgeSpan | undefined;

  constructor(options: {
    name: string;
    parent: TraceParent | undefined;
    ratio: number;
    attributes?: Attributes;
  }) {
    const { parent, ratio } = options;
    this.traceId = parent?.traceId ?? randomHex(16);
    this.sampled = parent ? parent.sampled : ratio >= 1 || (ratio > 0 && Math.random() < ratio);
    this.root = this.#make(
      options.name,
      {
        kind: SpanKind.server,
        ...(options.attributes ? { attributes: options.attributes } : {}),
      },
      parent?.spanId,
    );
  }

  /** Starts a child span (of `options.parent`, else of the root). End it with `end()`. */
  startSpan(name: string, options: SpanOptions = {}): EdgeSpan {
    return this.#make(name, options, (options.parent ?? this.root).spanId);
  }

  /**
   * Runs `fn` in a child span: a throw marks the span failed and is rethrown; the span always ends.
   * The helper other edge features (guardrails, budgets) use for their own spans.
   */
  async inSpan<T>(name: string, options: SpanOptions, fn: (span: EdgeSpan) => Promise<T>): Promise<T> {
    const span = this.startSpan(name, options);
    try {
      return await fn(span);
    } catch (error: unknown) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** The `traceparent` naming `span` as the parent of the next hop (flag 00 when not sampled). */
  traceparentOf(span: EdgeSpan = this.root): string {
    return formatTraceparent({ traceId: this.traceId, spanId: span.spanId, sampled: this.sampled });
  }

  /** The spans ended so far, handed over once (the exporter takes them). */
  takeEnded(): SpanRecord[] {
    return this.#ended.splice(0);
  }

  #make(name: string, options: SpanOptions, parentSpanId: string | undefined): EdgeSpan {
    // An unsampled request shares one span that records nothing: only its id travels on.
    if (!this.sampled) {
      this.#unsampled ??= new EdgeSpan(this.traceId, randomHex(8), null, () => undefined);
      return this.#unsampled;
    }
    const spanId = randomHex(8);
    const record: SpanRecord = {
      traceId: this.traceId,
      spanId,
      parentSpanId,
      name,
      kind: options.kind ?? SpanKind.internal,
      startNs: nowNs(),
      endNs: "",
      attributes: { ...options.attributes },
      status: { code: 0 },
    };
    return new EdgeSpan(this.traceId, spanId, record, (done) => this.#ended.push(done));
  }
}
