import type { Hono } from "hono";
import { GatewayError } from "../../shared/errors.ts";
import { headers } from "../../shared/headers.ts";
import { feedbackRequestSchema, feedbackResponseSchema } from "../../shared/schemas/feedback.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import { requireApiKey } from "../middleware/auth.ts";
import { limitBody, readJson } from "../middleware/json-body.ts";
import { enforceRateLimit } from "../middleware/rate-limit.ts";
import { forwardJson } from "../services/json-forward.ts";
import type { HonoEnv } from "../types.ts";

/**
 * POST /v1/feedback: authenticated and validated like chat, then forwarded (signed) to the pool, which
 * puts it on Kafka. Feedback is not cached and has no fallback answer: when no pool takes it the client
 * gets 503 with Retry-After and may send it again.
 */
export function registerFeedbackRoutes(app: Hono<HonoEnv>): void {
  app.post("/v1/feedback", limitBody, requireApiKey, enforceRateLimit, async (c) => {
    const { services, apiKey, requestId } = c.var;
    const request = parseOrThrow(feedbackRequestSchema, await readJson(c));
    const result = await forwardJson(
      services.pool,
      {
        method: "POST",
        path: "/internal/v1/feedback",
        body: JSON.stringify(request),
        requestId,
        tenant: apiKey.tenantId,
        keyId: apiKey.keyId,
        allowedModels: apiKey.allowedModels,
        traceparent: traceparentOf(c),
        deadline: Date.now() + services.config.POOL_TIMEOUT_MS,
      },
      feedbackResponseSchema,
    );
    if (!result.ok) {
      throw new GatewayError(
        "UPSTREAM_UNAVAILABLE",
        `Feedback was not stored (${result.reason}); send it again.`,
        {
          headers: { "retry-after": "1" },
        },
      );
    }
    return c.body(result.body, result.status as 202, {
      "content-type": "application/json",
      [headers.region]: result.region,
    });
  });
}
