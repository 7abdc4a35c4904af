import type { Hono } from "hono";
import { GatewayError } from "../../shared/errors.ts";
import { headers } from "../../shared/headers.ts";
import { embeddingsResponseSchema } from "../../shared/schemas/embeddings.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import { requireApiKey } from "../middleware/auth.ts";
import { limitBody, readJson } from "../middleware/json-body.ts";
import { enforceRateLimit } from "../middleware/rate-limit.ts";
import { forwardJson } from "../services/json-forward.ts";
import type { HonoEnv } from "../types.ts";
import { assertModelAllowed } from "./chat.ts";

/**
 * POST /v1/embeddings. Not cached. Embeddings have no meaningful canned answer, so when no pool can
 * answer this is a 503 `upstream_unavailable` carrying the same `x-fallback` reason as chat.
 */
export function registerEmbeddingsRoutes(app: Hono<HonoEnv>): void {
  app.post("/v1/embeddings", limitBody, requireApiKey, enforceRateLimit, async (c) => {
    const { services, apiKey, requestId } = c.var;
    const request = parseOrThrow(services.embeddingsSchema, await readJson(c));
    assertModelAllowed(c, request.model);
    const result = await forwardJson(
      services.pool,
      {
        method: "POST",
        path: "/internal/v1/embeddings",
        body: JSON.stringify(request),
        requestId,
        tenant: apiKey.tenantId,
        keyId: apiKey.keyId,
        allowedModels: apiKey.allowedModels,
        traceparent: traceparentOf(c),
        deadline: Date.now() + services.config.POOL_TIMEOUT_MS,
      },
      embeddingsResponseSchema,
    );
    if (!result.ok) {
      throw new GatewayError("UPSTREAM_UNAVAILABLE", "No regional pool could compute the embeddings.", {
        headers: { "retry-after": "1", [headers.fallback]: result.reason },
      });
    }
    return c.body(result.body, result.status as 200, {
      "content-type": "application/json",
      [headers.region]: result.region,
    });
  });
}
