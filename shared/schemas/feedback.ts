import { z } from "zod";
import { requestIdSchema } from "../request-id.ts";

/**
 * POST /v1/feedback: a verdict on one earlier answer of the caller's, named by the server's request id
 * (the answer's `x-request-id`) or by the id the client sent with it (`client_request_id`). Give a
 * `rating` in [-1, 1] (thumbs down/up = -1/1), a `label` ("correct", "wrong", "helpful", …), or both.
 */
export const feedbackRequestSchema = z
  .strictObject({
    request_id: requestIdSchema.optional(),
    client_request_id: requestIdSchema.optional(),
    rating: z.number().min(-1).max(1).optional(),
    label: z
      .string()
      .regex(/^[a-z0-9_-]{1,64}$/, "expected a short lowercase label")
      .optional(),
    comment: z.string().max(2_000).optional(),
    user: z.string().max(256).optional(),
  })
  .refine((body) => body.rating !== undefined || body.label !== undefined, {
    message: "give a rating, a label, or both",
    path: ["rating"],
  })
  .refine((body) => (body.request_id === undefined) !== (body.client_request_id === undefined), {
    message: "name the request by request_id or by client_request_id (one of them)",
    path: ["request_id"],
  });
export type FeedbackRequest = z.infer<typeof feedbackRequestSchema>;

export const feedbackResponseSchema = z.object({
  id: z.string(),
  object: z.literal("feedback"),
  request_id: z.string(),
  status: z.literal("accepted"),
});
export type FeedbackResponse = z.infer<typeof feedbackResponseSchema>;
