import { z } from "zod";
import { flatStringMap, freeFormRecord } from "../json-limits.ts";

/** Limits the edge enforces before anything reaches a model. All are configurable per deployment. */
export interface RequestLimits {
  maxMessages: number;
  /** Sum of all message text, in characters (a guardrail against oversized prompts; 100,000 unless configured). */
  maxContentChars: number;
  maxTokens: number;
}

export const defaultLimits: RequestLimits = { maxMessages: 256, maxContentChars: 100_000, maxTokens: 4_096 };

const textPart = z.strictObject({ type: z.literal("text"), text: z.string() });
const imagePart = z.strictObject({
  type: z.literal("image_url"),
  image_url: z.strictObject({
    url: z.string().max(2048),
    detail: z.enum(["auto", "low", "high"]).optional(),
  }),
});
const contentParts = z
  .array(z.discriminatedUnion("type", [textPart, imagePart]))
  .min(1)
  .max(64);
const content = z.union([z.string(), contentParts]);

const toolCall = z.strictObject({
  id: z.string().max(128),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string().max(128), arguments: z.string() }),
});

const message = z.discriminatedUnion("role", [
  z.strictObject({ role: z.literal("system"), content, name: z.string().max(64).optional() }),
  z.strictObject({ role: z.literal("developer"), content, name: z.string().max(64).optional() }),
  z.strictObject({ role: z.literal("user"), content, name: z.string().max(64).optional() }),
  z.strictObject({
    role: z.literal("assistant"),
    content: content.nullable().optional(),
    name: z.string().max(64).optional(),
    tool_calls: z.array(toolCall).max(64).optional(),
    refusal: z.string().nullable().optional(),
  }),
  z.strictObject({ role: z.literal("tool"), content, tool_call_id: z.string().max(128) }),
]);
export type ChatMessage = z.infer<typeof message>;

const stop = z.union([z.string().max(256), z.array(z.string().max(256)).max(4)]);

const tool = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
    description: z.string().max(4096).optional(),
    parameters: freeFormRecord().optional(),
    strict: z.boolean().optional(),
  }),
});

/**
 * Text of a message, for length limits and cache keys. Image parts count only by their URL.
 */
export function messageText(m: ChatMessage): string {
  const c = m.content;
  if (c === undefined || c === null) return "";
  if (typeof c === "string") return c;
  return c.map((p) => (p.type === "text" ? p.text : p.image_url.url)).join("");
}

/** The request's fields; without `limits` the deployment's caps are left to `chatRequestLimitsSchema`. */
function chatRequestObject(limits?: RequestLimits) {
  const messages = z.array(message).min(1);
  const tokens = z.number().int().min(1);
  return z.strictObject({
    model: z.string().min(1).max(256),
    messages: limits ? messages.max(limits.maxMessages) : messages,
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    max_tokens: (limits ? tokens.max(limits.maxTokens) : tokens).optional(),
    max_completion_tokens: (limits ? tokens.max(limits.maxTokens) : tokens).optional(),
    n: z.literal(1).optional(),
    stream: z.boolean().optional(),
    stream_options: z.strictObject({ include_usage: z.boolean().optional() }).nullable().optional(),
    stop: stop.nullable().optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    logit_bias: z.record(z.string(), z.number().min(-100).max(100)).optional(),
    logprobs: z.boolean().optional(),
    top_logprobs: z.number().int().min(0).max(20).optional(),
    seed: z.number().int().optional(),
    user: z.string().max(256).optional(),
    response_format: z
      .discriminatedUnion("type", [
        z.strictObject({ type: z.literal("text") }),
        z.strictObject({ type: z.literal("json_object") }),
        z.strictObject({ type: z.literal("json_schema"), json_schema: freeFormRecord() }),
      ])
      .optional(),
    tools: z.array(tool).max(128).optional(),
    tool_choice: z
      .union([
        z.enum(["none", "auto", "required"]),
        z.strictObject({ type: z.literal("function"), function: z.strictObject({ name: z.string() }) }),
      ])
      .optional(),
    parallel_tool_calls: z.boolean().optional(),
    metadata: flatStringMap().optional(),
    top_k: z.number().int().min(-1).max(1000).optional(),
    min_p: z.number().min(0).max(1).optional(),
    repetition_penalty: z.number().gt(0).max(2).optional(),
    /**
     * tiergate's RAG on chat: ground the answer in one of the tenant's collections. Below the relevance
     * threshold (or with nothing retrieved) the answer is the deterministic abstention, without a model.
     */
    rag: z
      .strictObject({
        collection: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
        top_k: z.number().int().min(1).max(50).optional(),
        threshold: z.number().min(0).max(1).optional(),
        filter: flatStringMap().optional(),
      })
      .optional(),
  });
}

/** The guardrail on the total message text, an issue on `messages`. */
function contentCap(maxContentChars: number) {
  return (request: { messages: readonly ChatMessage[] }, ctx: z.RefinementCtx): void => {
    let total = 0;
    for (const m of request.messages) total += messageText(m).length;
    if (total > maxContentChars) {
      ctx.addIssue({
        code: "custom",
        path: ["messages"],
        message: `total message content is ${total} characters; the limit is ${maxContentChars}`,
      });
    }
  };
}

/**
 * OpenAI's chat completion request, strict: an unknown field is a 400 naming it.
 * vLLM's extra sampling parameters (top_k, min_p, repetition_penalty) are accepted and passed through.
 */
export function chatCompletionRequestSchema(limits: RequestLimits = defaultLimits) {
  return chatRequestObject(limits).superRefine(contentCap(limits.maxContentChars));
}

/**
 * The chat request without the deployment's caps: what the edge's route validates and documents.
 * The caps (MAX_MESSAGES, MAX_TOKENS, MAX_CONTENT_CHARS) come from config, checked with
 * `chatRequestLimitsSchema`; together the two accept exactly what `chatCompletionRequestSchema` does.
 */
export const chatCompletionRequestBodySchema = chatRequestObject();

/** The caps of a deployment over an already valid request, with the messages the full schema gives. */
export function chatRequestLimitsSchema(limits: RequestLimits) {
  const tokens = z.number().max(limits.maxTokens).optional();
  return z
    .object({
      messages: z.array(z.custom<ChatMessage>()).max(limits.maxMessages),
      max_tokens: tokens,
      max_completion_tokens: tokens,
    })
    .superRefine(contentCap(limits.maxContentChars));
}

export type ChatCompletionRequest = z.infer<ReturnType<typeof chatCompletionRequestSchema>>;

export const chatCompletionResponseSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal("assistant"), content: z.string().nullable() }),
      finish_reason: z.string().nullable(),
    }),
  ),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() }),
});
export type ChatCompletionResponse = z.infer<typeof chatCompletionResponseSchema>;
