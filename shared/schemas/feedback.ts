import { z } from "zod";

/**
 * POST /v1/feedback: a verdict on one earlier answer, named by its request id (`x-request-id`). Give a
 * `rating` in [-1, 1] (thumbs down/up = -1/1), a `label` ("correct", "wrong", "helpful", …), or both.
 */
export const feedbackRequestSchema = z
  .strictObject({
    request_id: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "expected a request id (x-request-id)"),
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
  });
export type FeedbackRequest = z.infer<typeof feedbackRequestSchema>;

export const feedbackResponseSchema = z.object({
  id: z.string(),
  object: z.literal("feedback"),
  request_id: z.string(),
  status: z.literal("accepted"),
});
export type FeedbackResponse = z.infer<typeof feedbackResponseSchema>;
