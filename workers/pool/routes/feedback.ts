import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { FeedbackEvent } from "../../../shared/events.ts";
import { headers } from "../../../shared/headers.ts";
import { jsonContent } from "../../../shared/openapi.ts";
import {
  type FeedbackResponse,
  feedbackRequestSchema,
  feedbackResponseSchema,
} from "../../../shared/schemas/feedback.ts";
import { correctLabels, wrongLabels } from "../../drift/windows.ts";
import type { PoolHonoEnv } from "../types.ts";
import { jsonBody, signedBodyErrors, signedSecurity, tags } from "./shared.ts";

const feedbackRoute = createRoute({
  method: "post",
  path: "/internal/v1/feedback",
  summary: "A verdict on an earlier answer, to Kafka (the edge forwards POST /v1/feedback)",
  tags: tags.internal,
  security: signedSecurity,
  middleware: jsonBody,
  request: { body: { required: true, content: jsonContent(feedbackRequestSchema) } },
  responses: {
    202: { description: "Kafka has it", content: jsonContent(feedbackResponseSchema) },
    ...signedBodyErrors,
  },
});

/** A label without a rating still counts: known labels map to ±1, others to 0 (unlabelled for accuracy). */
function ratingOf(rating: number | undefined, label: string | undefined): number {
  if (rating !== undefined) return rating;
  if (label && correctLabels.includes(label)) return 1;
  if (label && wrongLabels.includes(label)) return -1;
  return 0;
}

/**
 * POST /internal/v1/feedback: the edge forwards `POST /v1/feedback` here; the verdict goes to Kafka
 * (`tiergate.feedback`, key = tenant) and, through ingest, to ClickHouse `feedback`, where the drift job
 * joins it to the request's event. Answers 202 once Kafka has it; 503 with Retry-After when it cannot.
 */
export function registerFeedbackRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(feedbackRoute, async (c) => {
    const body = c.req.valid("json");
    const event: FeedbackEvent = {
      feedback_id: crypto.randomUUID(),
      ts: Date.now(),
      request_id: body.request_id,
      tenant: c.req.header(headers.tenant) ?? "unknown",
      user_id: body.user ?? "",
      rating: ratingOf(body.rating, body.label),
      label: body.label ?? "",
      comment: body.comment ?? "",
    };
    await c.var.services.feedback.publish([event]);
    const response: FeedbackResponse = {
      id: event.feedback_id,
      object: "feedback",
      request_id: event.request_id,
      status: "accepted",
    };
    return c.json(response, 202);
  });
}
