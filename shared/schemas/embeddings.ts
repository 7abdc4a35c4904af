import { z } from "zod";

/** Caps on embeddings input, from the deployment's config. */
export interface EmbeddingsLimits {
  maxInputs: number;
  maxInputChars: number;
}

const defaultEmbeddingsLimits: EmbeddingsLimits = { maxInputs: 256, maxInputChars: 100_000 };

/** `input`: one text or a list of them; without `limits` the caps are left to `embeddingsLimitsSchema`. */
function embeddingsInput(limits?: EmbeddingsLimits) {
  const text = limits ? z.string().min(1).max(limits.maxInputChars) : z.string().min(1);
  const list = z.array(text).min(1);
  return z.union([text, limits ? list.max(limits.maxInputs) : list]);
}

/** OpenAI's embeddings request. Token-id input is not supported (400). */
export function embeddingsRequestSchema(limits: EmbeddingsLimits = defaultEmbeddingsLimits) {
  return embeddingsRequestObject(limits);
}

/** The embeddings request without the deployment's caps: what the edge's route validates and documents. */
export const embeddingsRequestBodySchema = embeddingsRequestObject();

/** The caps of a deployment over an already valid request, with the messages the full schema gives. */
export function embeddingsLimitsSchema(limits: EmbeddingsLimits) {
  const text = z.string().max(limits.maxInputChars);
  return z.object({ input: z.union([text, z.array(text).max(limits.maxInputs)]) });
}

function embeddingsRequestObject(limits?: EmbeddingsLimits) {
  return z.strictObject({
    model: z.string().min(1).max(256),
    input: embeddingsInput(limits),
    encoding_format: z.enum(["float", "base64"]).optional(),
    dimensions: z.number().int().positive().max(8192).optional(),
    user: z.string().max(256).optional(),
  });
}
export type EmbeddingsRequest = z.infer<ReturnType<typeof embeddingsRequestSchema>>;

export const embeddingsResponseSchema = z.object({
  object: z.literal("list"),
  data: z.array(
    z.object({
      object: z.literal("embedding"),
      index: z.number().int(),
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number() }),
});
export type EmbeddingsResponse = z.infer<typeof embeddingsResponseSchema>;

/** GET /v1/models. */
export const modelListSchema = z.object({
  object: z.literal("list"),
  data: z.array(
    z.object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() }),
  ),
});
export type ModelList = z.infer<typeof modelListSchema>;
