import { z } from "zod";

/** OpenAI's embeddings request. Token-id input is not supported (400). */
export function embeddingsRequestSchema(
  limits: { maxInputs: number; maxInputChars: number } = { maxInputs: 256, maxInputChars: 100_000 },
) {
  const text = z.string().min(1).max(limits.maxInputChars);
  return z.strictObject({
    model: z.string().min(1).max(256),
    input: z.union([text, z.array(text).min(1).max(limits.maxInputs)]),
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
