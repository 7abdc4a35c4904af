import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { createMiddleware } from "hono/factory";
import { attr } from "../../shared/trace-attributes.ts";
import { parseTraceparent } from "../../shared/tracing.ts";
import type { PoolHonoEnv } from "../pool/types.ts";
import { poolTracer, recordFailure } from "./spans.ts";

/** The edge's span as the remote parent, from the signed `traceparent`; the root context without one. */
function parentOf(traceparent: string | undefined) {
  const parent = parseTraceparent(traceparent);
  if (!parent) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

/**
 * The SERVER span of a signed call, a child of the edge's span named in the signed `traceparent` (an
 * unsigned one never gets here: verifySignature refuses it). Everything the handler does runs inside
 * it. A streamed answer's span ends when the handler returns; its model call span ends with the stream.
 */
export const traceSignedCall = createMiddleware<PoolHonoEnv>(async (c, next) => {
  const caller = c.get("caller");
  const parent = parentOf(caller?.traceparent);
  const span = poolTracer().startSpan(
    `${c.req.method} ${c.req.path}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        [attr.httpRequestMethod]: c.req.method,
        [attr.httpRoute]: c.req.path,
        [attr.requestId]: c.get("requestId"),
        ...(caller?.tenant ? { [attr.tenant]: caller.tenant } : {}),
        [attr.region]: c.get("services").config.POOL_REGION,
      },
    },
    parent,
  );
  if (!span.isRecording()) return next();
  try {
    await context.with(trace.setSpan(parent, span), next);
  } finally {
    const status = c.res.status;
    span.setAttribute(attr.httpResponseStatusCode, status);
    // A refusal (4xx) is the client's error, not this server's: the span stays unset, as HTTP spans do.
    if (status >= 500) {
      if (c.error) recordFailure(span, c.error);
      else span.setStatus({ code: SpanStatusCode.ERROR });
    } else if (c.error instanceof Error) span.setAttribute(attr.errorType, c.error.name);
    span.end();
  }
});
