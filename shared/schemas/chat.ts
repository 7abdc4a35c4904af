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
/** Image URLs (https or base64 `data:`) are bounded only by the body cap. */
const imagePart = z.strictObject({
  type: z.literal("image_url"),
  image_url: z.strictObject({
    url: z.string().min(1),
    detail: z.enum(["auto", "low", "high"]).optional(),
  }),
});
const audioPart = z.strictObject({
  type: z.literal("input_audio"),
  input_audio: z.strictObject({ data: z.string().min(1), format: z.enum(["wav", "mp3"]) }),
});
const filePart = z.strictObject({
  type: z.literal("file"),
  file: z.strictObject({
    file_data: z.string().optional(),
    file_id: z.string().max(256).optional(),
    filename: z.string().max(512).optional(),
  }),
});
const refusalPart = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });
const contentParts = z
  .array(z.discriminatedUnion("type", [textPart, imagePart, audioPart, filePart]))
  .min(1)
  .max(64);
const content = z.union([z.string(), contentParts]);
const textContent = z.union([z.string(), z.array(textPart).min(1).max(64)]);
const assistantContent = z.union([
  z.string(),
  z
    .array(z.discriminatedUnion("type", [textPart, refusalPart]))
    .min(1)
    .max(64),
]);

const toolCall = z.discriminatedUnion("type", [
  z.strictObject({
    id: z.string().max(128),
    type: z.literal("function"),
    function: z.strictObject({ name: z.string().max(128), arguments: z.string() }),
  }),
  z.strictObject({
    id: z.string().max(128),
    type: z.literal("custom"),
    custom: z.strictObject({ name: z.string().max(128), input: z.string() }),
  }),
]);

const message = z.discriminatedUnion("role", [
  z.strictObject({ role: z.literal("system"), content: textContent, name: z.string().max(64).optional() }),
  z.strictObject({ role: z.literal("developer"), content: textContent, name: z.string().max(64).optional() }),
  z.strictObject({ role: z.literal("user"), content, name: z.string().max(64).optional() }),
  z.strictObject({
    role: z.literal("assistant"),
    content: assistantContent.nullable().optional(),
    name: z.string().max(64).optional(),
    tool_calls: z.array(toolCall).max(64).optional(),
    refusal: z.string().nullable().optional(),
    audio: z
      .strictObject({ id: z.string().max(256) })
      .nullable()
      .optional(),
    function_call: z
      .strictObject({ name: z.string().max(128), arguments: z.string() })
      .nullable()
      .optional(),
  }),
  z.strictObject({ role: z.literal("tool"), content: textContent, tool_call_id: z.string().max(128) }),
  z.strictObject({ role: z.literal("function"), content: z.string().nullable(), name: z.string().max(64) }),
]);
export type ChatMessage = z.infer<typeof message>;

const stop = z.union([z.string().max(256), z.array(z.string().max(256)).max(4)]);

const functionName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/);
const functionDefinition = z.strictObject({
  name: functionName,
  description: z.string().max(4096).optional(),
  parameters: freeFormRecord().optional(),
  strict: z.boolean().nullable().optional(),
});
const tool = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("function"), function: functionDefinition }),
  z.strictObject({
    type: z.literal("custom"),
    custom: z.strictObject({
      name: functionName,
      description: z.string().max(4096).optional(),
      format: freeFormRecord().optional(),
    }),
  }),
]);

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({ type: z.literal("function"), function: z.strictObject({ name: z.string() }) }),
  z.strictObject({ type: z.literal("custom"), custom: z.strictObject({ name: z.string() }) }),
  z.strictObject({
    type: z.literal("allowed_tools"),
    allowed_tools: z.strictObject({
      mode: z.enum(["auto", "required"]),
      tools: z.array(freeFormRecord()).max(128),
    }),
  }),
]);

/** What a content part contributes to the text limit: text, a refusal; media parts count nothing. */
function partText(part: { type: string; text?: string; refusal?: string }): string {
  return part.text ?? part.refusal ?? "";
}

/**
 * Text of a message, for length limits and routing. Media parts (images, audio, files) are bounded by
 * the body cap only and add no text.
 */
export function messageText(m: ChatMessage): string {
  const c = m.content;
  if (c === undefined || c === null) return "";
  if (typeof c === "string") return c;
  return c.map(partText).join("");
}

/** The most choices (`n`) one request may ask for, as OpenAI allows. */
export const maxChoices = 128;

/** The request's fields; without `limits` the deployment's caps are left to `chatRequestLimitsSchema`. */
function chatRequestObject(limits?: RequestLimits) {
  const messages = z.array(message).min(1);
  const tokens = z.number().int().min(1);
  return z.strictObject({
    model: z.string().min(1).max(256),
    messages: limits ? messages.max(limits.maxMessages) : messages,
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    max_tokens: (limits ? tokens.max(limits.maxTokens) : tokens).nullish(),
    max_completion_tokens: (limits ? tokens.max(limits.maxTokens) : tokens).nullish(),
    n: z.number().int().min(1).max(maxChoices).nullish(),
    stream: z.boolean().nullish(),
    stream_options: z
      .strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })
      .nullish(),
    stop: stop.nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    seed: z.number().int().nullish(),
    user: z.string().max(256).optional(),
    safety_identifier: z.string().max(256).optional(),
    response_format: z
      .discriminatedUnion("type", [
        z.strictObject({ type: z.literal("text") }),
        z.strictObject({ type: z.literal("json_object") }),
        z.strictObject({ type: z.literal("json_schema"), json_schema: freeFormRecord() }),
      ])
      .optional(),
    tools: z.array(tool).max(128).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    functions: z.array(functionDefinition).max(128).optional(),
    function_call: z.union([z.enum(["none", "auto"]), z.strictObject({ name: z.string() })]).optional(),
    metadata: flatStringMap().nullish(),
    store: z.boolean().nullish(),
    service_tier: z.enum(["auto", "default", "flex", "scale", "priority"]).nullish(),
    reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullish(),
    verbosity: z.enum(["low", "medium", "high"]).nullish(),
    prompt_cache_key: z.string().max(1024).optional(),
    prompt_cache_retention: z.enum(["in-memory", "24h"]).nullish(),
    modalities: z
      .array(z.enum(["text", "audio"]))
      .max(2)
      .nullish(),
    audio: z
      .strictObject({
        format: z.enum(["wav", "aac", "mp3", "flac", "opus", "pcm16"]),
        voice: z.union([z.string().max(64), z.strictObject({ id: z.string().max(256) })]),
      })
      .nullish(),
    prediction: z.strictObject({ type: z.literal("content"), content: textContent }).nullish(),
    web_search_options: z
      .strictObject({
        search_context_size: z.enum(["low", "medium", "high"]).optional(),
        user_location: z
          .strictObject({ type: z.literal("approximate"), approximate: flatStringMap() })
          .nullish(),
      })
      .optional(),
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
  const tokens = z.number().max(limits.maxTokens).nullish();
  return z
    .object({
      messages: z.array(z.custom<ChatMessage>()).max(limits.maxMessages),
      max_tokens: tokens,
      max_completion_tokens: tokens,
    })
    .superRefine(contentCap(limits.maxContentChars));
}

export type ChatCompletionRequest = z.infer<ReturnType<typeof chatCompletionRequestSchema>>;

const completionToolCall = z.object({
  id: z.string(),
  type: z.string(),
  function: z.object({ name: z.string(), arguments: z.string() }).optional(),
  custom: z.object({ name: z.string(), input: z.string() }).optional(),
});

export const chatCompletionResponseSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({
        role: z.literal("assistant"),
        content: z.string().nullable(),
        refusal: z.string().nullable().optional(),
        tool_calls: z.array(completionToolCall).optional(),
      }),
      logprobs: z
        .object({
          content: z.array(z.unknown()).nullable().optional(),
          refusal: z.array(z.unknown()).nullable().optional(),
        })
        .nullable()
        .optional(),
      finish_reason: z.string().nullable(),
    }),
  ),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() }),
});
export type ChatCompletionResponse = z.infer<typeof chatCompletionResponseSchema>;
