import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { headers } from "../../shared/headers.ts";
import { attr } from "../../shared/trace-attributes.ts";
import { parseTraceparent } from "../../shared/tracing.ts";
import { inBackground } from "../lib/background.ts";
import { RequestTrace } from "../lib/tracing/span.ts";
import type { HonoEnv } from "../types.ts";

/**
 * The request's root SERVER span (a child of the client's `traceparent` when it sent one), on
 * `c.var.trace`. When the request is done its spans are queued for export and the send runs in the
 * background (`waitUntil`), so tracing never delays the answer. Off when no OTLP endpoint is set.
 */
export const traceRequests = createMiddleware<HonoEnv>(async (c, next) => {
  const exporter = c.get("services").tracer;
  if (!exporter) return next();
  const trace = new RequestTrace({
    name: `${c.req.method} ${c.req.path}`,
    parent: parseTraceparent(c.req.header(headers.traceparent)),
    ratio: exporter.ratio,
    attributes: {
      [attr.httpRequestMethod]: c.req.method,
      [attr.httpRoute]: c.req.path,
      [attr.requestId]: c.get("requestId"),
    },
  });
  c.set("trace", trace);
  try {
    await next();
  } finally {
    finish(c, trace);
    const spans = trace.takeEnded();
    const sending = spans.length > 0 ? exporter.export(spans) : null;
    if (sending) inBackground(c, "trace export", sending);
  }
});

/** Status, tenant, cache result and fallback reason on the root span, then ends it. */
function finish(c: Context<HonoEnv>, trace: RequestTrace): void {
  const { root } = trace;
  if (!root.recording) return;
  const status = c.res.status;
  root.setAttribute(attr.httpResponseStatusCode, status);
  root.setAttribute(attr.tenant, c.get("apiKey")?.tenantId);
  root.setAttribute(attr.cacheResult, c.res.headers.get(headers.cache) ?? undefined);
  root.setAttribute(attr.fallbackReason, c.res.headers.get(headers.fallback) ?? undefined);
  root.setAttribute(attr.region, c.res.headers.get(headers.region) ?? undefined);
  if (status >= 500) root.fail(c.error ?? `HTTP ${status}`);
  root.end();
}
