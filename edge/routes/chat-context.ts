import type { Context } from "hono";
import { inBackground } from "../lib/background.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import type { ChatContext } from "../services/chat-completions.ts";
import type { HonoEnv } from "../types.ts";

/** The chat context of a request: what `answerChat` needs from the route (services, key, ids). */
export function chatContextOf(c: Context<HonoEnv>): ChatContext {
  const services = c.get("services"),
    apiKey = c.get("apiKey"),
    requestId = c.get("requestId"),
    arrivedAt = c.get("arrivedAt");
  return {
    services,
    apiKey,
    requestId,
    arrivedAt,
    traceparent: traceparentOf(c),
    clientRequestId: c.get("clientRequestId"),
    background: (label, work) => inBackground(c, label, work),
  };
}
