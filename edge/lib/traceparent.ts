import type { Context } from "hono";
import { headers } from "../../shared/headers.ts";
import type { HonoEnv } from "../types.ts";

/** W3C trace context, version 00: anything else is not forwarded. */
const traceparentPattern = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The `traceparent` to forward: the edge's root span when tracing is on (so pool spans nest under the
 * edge's), else the client's when it is well-formed, else undefined.
 */
export function traceparentOf(c: Context<HonoEnv>): string | undefined {
  const trace = c.get("trace");
  if (trace) return trace.traceparentOf();
  const value = c.req.header(headers.traceparent)?.trim().toLowerCase();
  return value && traceparentPattern.test(value) ? value : undefined;
}
