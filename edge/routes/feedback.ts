import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { GatewayError } from "../../shared/errors.ts";
import { headers } from "../../shared/headers.ts";
import { errorResponses, jsonContent, plainResponses } from "../../shared/openapi.ts";
import { feedbackRequestSchema, feedbackResponseSchema } from "../../shared/schemas/feedback.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import { forwardJson } from "../services/json-forward.ts";
import type { HonoEnv } from "../types.ts";
import { bearerSecurity, bodyRouteErrors, bodyRouteMiddleware } from "./common.ts";

const feedbackRoute = createRoute({
  method: "post",
  path: "/v1/feedback",
  summary: "A rating or label for an earlier answer, named by its request id (feeds the drift job)",
  security: bearerSecurity,
  middleware: bodyRouteMiddleware,
  request: {
    body: { required: true, content: jsonContent(feedbackRequestSchema.openapi("FeedbackRequest")) },
  },
  responses: plainResponses({
    202: {
      description: "Stored (on Kafka)",
      content: jsonContent(feedbackResponseSchema.openapi("FeedbackResponse")),
    },
    ...bodyRouteErrors,
    ...errorResponses(503),
  }),
});

/**
 * POST /v1/feedback: authenticated and validated like chat, then forwarded (signed) to the pool, which
 * puts it on Kafka. Feedback is not cached and has no fallback answer: when no pool takes it the client
 * gets 503 with Retry-After and may send it again.
 */
export function registerFeedbackRoutes(app: OpenAPIHono<HonoEnv>): void {
  app.openapi(feedbackRoute, async (c) => {
    const { services, apiKey, requestId } = c.var;
    const request = c.req.valid("json");
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
