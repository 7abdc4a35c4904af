import type { Context } from "hono";
import { headers } from "../../../shared/headers.ts";
import { parsePayloadLogDirective } from "../../../shared/schemas/semantic-cache.ts";
import type { PoolHonoEnv } from "../types.ts";

/**
 * Logs the exchange when the edge's signed directive says the key logs payloads (off by default): the
 * request body as the pool received it, the answer as sent.
 */
export function logPayload(c: Context<PoolHonoEnv>, route: string, response: string): void {
  const directive = parsePayloadLogDirective(c.req.header(headers.poolPayloadLog));
  const tenant = c.get("caller").tenant;
  if (!directive || !tenant) return;
  const services = c.get("services");
  services.payloadLog.record({
    tenant,
    requestId: c.get("requestId"),
    keyId: c.get("caller").keyId ?? "",
    route,
    request: c.get("rawBody"),
    response,
    retentionDays: directive.retentionDays ?? services.config.PAYLOAD_LOG_RETENTION_DAYS,
  });
}
