import {
  type Attributes,
  INVALID_SPAN_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { attr } from "../../shared/trace-attributes.ts";

/** The pool's tracer; the API's no-op until `startPoolTracing` registers a provider. */
export function poolTracer() {
  return trace.getTracer("tiergate-pool");
}

const unrecorded = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Options of one span. */
export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
}

/** Marks a span failed with the error's type (its class name or `DependencyError` dependency). */
export function recordFailure(span: Span, error: unknown): void {
  const type =
    error instanceof Error
      ? "dependency" in error && typeof error.dependency === "string"
        ? `${error.name}:${error.dependency}`
        : error.name
      : "unknown";
  span.setAttribute(attr.errorType, type);
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Runs `fn` in a child span of the active one (the span is active inside `fn`, so deeper spans nest
 * under it); with no recording span active, `fn` runs with a non-recording span and nothing is made. A throw marks the span failed and is rethrown; the span always ends.
 */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  // Work outside a recorded request (background jobs, unsampled requests) makes no spans of its own.
  if (!trace.getActiveSpan()?.isRecording()) return fn(unrecorded);
  return poolTracer().startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    async (span) => {
      try {
        return await fn(span);
      } catch (error: unknown) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** The active span's trace id when it is sampled, else undefined (for logs and events). */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  const ctx = span?.spanContext();
  return ctx && (ctx.traceFlags & 1) === 1 ? ctx.traceId : undefined;
}
