import { z } from "zod";

const textPart = z.object({ type: z.literal("text"), text: z.string() });

const chatMessageSchema = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
  name: z.string().optional(),
});

const stopSchema = z.union([z.string(), z.array(z.string()).max(4)]).nullish();

/** Sampling fields shared by chat and text completions (unknown fields are ignored, as vLLM does). */
const samplingFields = {
  model: z.string().min(1),
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.literal(1).nullish(),
  seed: z.number().int().nullish(),
  stop: stopSchema,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
};

export const chatCompletionRequestSchema = z.object({
  ...samplingFields,
  messages: z.array(chatMessageSchema).min(1),
  max_completion_tokens: z.number().int().positive().nullish(),
});

export const completionRequestSchema = z.object({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).length(1)]),
});

export const embeddingRequestSchema = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1).max(256)]),
  encoding_format: z.enum(["float", "base64"]).nullish(),
  dimensions: z.number().int().positive().nullish(),
  user: z.string().nullish(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;
export type ChatMessageInput = z.infer<typeof chatMessageSchema>;

/** The OpenAI error body: `{ error: { message, type, param, code } }`. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAIError(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

/** Turns the first zod issue into an `invalid_request_error` naming the offending field. */
export function validationError(error: z.ZodError): OpenAIErrorBody {
  const issue = error.issues[0];
  const param = issue && issue.path.length > 0 ? issue.path.join(".") : null;
  const message = issue ? `${param ?? "body"}: ${issue.message}` : "invalid request";
  return openAIError(message, "invalid_request_error", param, "invalid_value");
}

/** Flattens OpenAI message content (a string or text parts) to the plain text the template expects. */
export function messageText(content: ChatMessageInput["content"]): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text).join("");
}

/** Normalises `stop` to a list. */
export function stopList(stop: z.infer<typeof stopSchema>): string[] {
  if (stop === undefined || stop === null) return [];
  return (typeof stop === "string" ? [stop] : stop).filter((s) => s.length > 0);
}

/** Float32 little-endian bytes, base64-encoded: what `encoding_format: "base64"` returns. */
export function float32ToBase64(vector: Float32Array): string {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  vector.forEach((value, i) => {
    view.setFloat32(i * 4, value, true);
  });
  return Buffer.from(bytes).toString("base64");
}
