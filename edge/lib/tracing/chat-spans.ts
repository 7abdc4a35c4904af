import { attr } from "../../../shared/trace-attributes.ts";
import type { ForwardResult } from "../../services/pool-client.ts";
import type { CacheLookup } from "../../services/response-cache.ts";
import { type RequestTrace, SpanKind } from "./span.ts";

/** The response-cache read as a span: hit (and which tier), miss, or unavailable. */
export function tracedCacheLookup(
  trace: RequestTrace | undefined,
  lookup: () => Promise<CacheLookup>,
): Promise<CacheLookup> {
  if (!trace) return lookup();
  return trace.inSpan(
    "tiergate.cache.lookup",
    { kind: SpanKind.client, attributes: { "db.system.name": "redis" } },
    async (span) => {
      const result = await lookup();
      span.setAttribute(attr.cacheResult, result.status);
      if (result.status === "hit") span.setAttribute(attr.cacheTier, result.tier);
      return result;
    },
  );
}

/**
 * The signed forward to a pool as a CLIENT span; `call` gets the `traceparent` naming this span, so
 * the pool's spans nest under it. Records the answering region, or the failure that leads to the
 * fallback answer.
 */
export function tracedForward(
  trace: RequestTrace | undefined,
  fallbackTraceparent: string | undefined,
  call: (traceparent: string | undefined) => Promise<ForwardResult>,
): Promise<ForwardResult> {
  if (!trace) return call(fallbackTraceparent);
  return trace.inSpan("tiergate.forward", { kind: SpanKind.client }, async (span) => {
    const result = await call(trace.traceparentOf(span));
    if (result.ok) {
      span.setAttribute(attr.region, result.region);
      span.setAttribute(attr.httpResponseStatusCode, result.response.status);
    } else {
      span.setAttribute(attr.fallbackReason, result.reason);
      span.fail(result.reason);
    }
    return result;
  });
}
