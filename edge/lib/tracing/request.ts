import type { Context } from "hono";
import type { HonoEnv } from "../../types.ts";
import { type EdgeSpan, RequestTrace, type SpanOptions } from "./span.ts";

/** Made on first use: workerd forbids random values (span ids) at module scope. */
let unsampled: RequestTrace | undefined;

/**
 * The request's trace, or a shared one that records nothing when tracing is off, so callers never
 * branch on it. Its `inSpan` is the helper every edge feature wraps its work in.
 */
export function traceOf(c: Context<HonoEnv>): RequestTrace {
  const trace = c.get("trace");
  if (trace) return trace;
  unsampled ??= new RequestTrace({ name: "unsampled", parent: undefined, ratio: 0 });
  return unsampled;
}

/** Runs `fn` in a child span of the request's root span (nothing is recorded when unsampled). */
export function inEdgeSpan<T>(
  c: Context<HonoEnv>,
  name: string,
  options: SpanOptions,
  fn: (span: EdgeSpan) => Promise<T>,
): Promise<T> {
  return traceOf(c).inSpan(name, options, fn);
}
