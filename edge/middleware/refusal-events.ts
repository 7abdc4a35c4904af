import type { Context } from "hono";
import { inBackground } from "../lib/background.ts";
import type { VerifiedKey } from "../services/api-keys.ts";
import { edgeEvent } from "../services/edge-events.ts";
import type { HonoEnv } from "../types.ts";

/** The event route of an API path: `/v1/chat/completions` → `chat`, `/v1/embeddings` → `embeddings`. */
function routeOf(path: string): string {
  return path.replace(/^\/v1\//, "").split("/")[0] || "unknown";
}

/**
 * Records a request the edge refused with a 4xx after its key was verified (bad input, a forbidden
 * model, the rate limit), so ClickHouse counts every request of a tenant, not only the answered ones.
 * Requests without a verified key (401, or refused before authentication) have no tenant and are not
 * recorded: an unauthenticated caller must not be able to fill the event stream.
 */
export function recordRefusal(c: Context<HonoEnv>, status: number): void {
  if (status < 400 || status >= 500) return;
  const apiKey: VerifiedKey | undefined = c.get("apiKey");
  const services = c.get("services");
  if (!apiKey || !services) return;
  const flush = services.events.record({
    ...edgeEvent({
      requestId: c.get("requestId"),
      tenant: apiKey.tenantId,
      keyId: apiKey.keyId,
      userId: undefined,
      route: routeOf(c.req.path),
      model: "",
      cache: "BYPASS",
      status,
      fallbackReason: "",
      arrivedAt: c.get("arrivedAt"),
    }),
    ...c.get("guardrailEvent"),
  });
  if (flush) inBackground(c, "edge event", flush);
}
