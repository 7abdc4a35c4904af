import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { GatewayError } from "../../../shared/errors.ts";
import type { FeedbackEvent } from "../../../shared/events.ts";
import { headers } from "../../../shared/headers.ts";
import { errorResponses, jsonContent } from "../../../shared/openapi.ts";
import {
  type FeedbackRequest,
  type FeedbackResponse,
  feedbackRequestSchema,
  feedbackResponseSchema,
} from "../../../shared/schemas/feedback.ts";
import type { RequestReference } from "../../db/request-ownership.ts";
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
    ...errorResponses(404),
  },
});

/** A label without a rating still counts: known labels map to ±1, others to 0 (unlabelled for accuracy). */
function ratingOf(rating: number | undefined, label: string | undefined): number {
  if (rating !== undefined) return rating;
  if (label && correctLabels.includes(label)) return 1;
  if (label && wrongLabels.includes(label)) return -1;
  return 0;
}

function referenceOf(body: FeedbackRequest): RequestReference {
  return body.client_request_id
    ? { clientRequestId: body.client_request_id }
    : { requestId: body.request_id ?? "" };
}

/**
 * POST /internal/v1/feedback: the edge forwards `POST /v1/feedback` here; the verdict goes to Kafka
 * (`tiergate.feedback`, key = tenant) and, through ingest, to ClickHouse `feedback`, where the drift job
 * joins it to the request's event on (tenant, request id). Only the tenant that made the request may
 * rate it: another tenant's (or an unknown) request id is 404, as if it did not exist. Answers 202 once
 * Kafka has it; 503 with Retry-After when Kafka or Postgres cannot answer.
 */
export function registerFeedbackRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(feedbackRoute, async (c) => {
    const body = c.req.valid("json");
    const tenant = c.req.header(headers.tenant);
    const requestId = tenant
      ? await c.var.services.requestOwnership.find(tenant, referenceOf(body))
      : undefined;
    if (!tenant || !requestId) {
      const [param, id] = body.client_request_id
        ? ["client_request_id", body.client_request_id]
        : ["request_id", body.request_id];
      throw new GatewayError("NOT_FOUND", `No request ${id} of yours was found.`, { param });
    }
    const event: FeedbackEvent = {
      feedback_id: crypto.randomUUID(),
      ts: Date.now(),
      request_id: requestId,
      tenant,
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
