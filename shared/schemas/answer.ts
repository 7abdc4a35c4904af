import { z } from "zod";
import { flatStringMap } from "../json-limits.ts";

/** The two fixed abstention answers, word for word the same every time; neither calls a model. */
export const abstentions = {
  no_context: "I cannot answer this question based on available data.",
  below_threshold: "No sufficiently relevant information found.",
} as const;

/** Why the answer gate withheld a generated answer (see workers/retrieval/answer-gate.ts). */
export const gateReasonSchema = z.enum(["sentinel", "unsupported_claims", "answer_type", "question_terms"]);

/** Which rule decided the answer. `retrieval_unavailable` answers with the no-context text. */
export const answerRuleSchema = z.enum([
  "generated",
  "no_context",
  "below_threshold",
  "retrieval_unavailable",
  /** The answer gate withheld the generated answer (or the model replied with the abstain sentinel). */
  "unsupported_answer",
]);
export type AnswerRule = z.infer<typeof answerRuleSchema>;

/** POST /v1/answer: a question against one of the tenant's collections. */
export const answerRequestSchema = z.strictObject({
  question: z.string().min(1).max(10_000),
  collection: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  top_k: z.number().int().min(1).max(50).optional(),
  /** Override of the collection's relevance threshold, in [0, 1]. */
  threshold: z.number().min(0).max(1).optional(),
  filter: flatStringMap().optional(),
  model: z.string().min(1).max(256).optional(),
  max_tokens: z.number().int().min(1).max(4_096).optional(),
  temperature: z.number().min(0).max(2).optional(),
  user: z.string().max(256).optional(),
});
export type AnswerRequest = z.infer<typeof answerRequestSchema>;

export const citationSchema = z.object({
  chunk_id: z.string(),
  document_id: z.string(),
  source: z.string(),
  score: z.number().min(0).max(1),
});

export const answerResponseSchema = z.object({
  id: z.string(),
  object: z.literal("answer"),
  created: z.number().int(),
  answer: z.string(),
  rule: answerRuleSchema,
  /** Best relevance score in [0, 1] (null when nothing was retrieved) and the threshold applied. */
  scores: z.object({ best: z.number().nullable(), threshold: z.number(), retrieved: z.number().int() }),
  citations: z.array(citationSchema),
  model: z.string().nullable(),
  /** With `unsupported_answer`: why, and the answer's spans the passages do not hold (for debugging). */
  gate: z
    .object({ reason: gateReasonSchema, unsupported_spans: z.array(z.string()), coverage: z.number() })
    .optional(),
  usage: z
    .object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() })
    .nullable(),
});
export type AnswerResponse = z.infer<typeof answerResponseSchema>;
