import { z } from "zod";
import { freeFormRecord } from "../json-limits.ts";

/*
 * Anthropic's Messages API request (POST /v1/messages), strict at the top level: an unknown field is a
 * 400 naming it. Blocks accept and ignore `cache_control` and `citations`.
 */

const cacheControl = z.looseObject({ type: z.literal("ephemeral") }).nullish();

const textBlock = z.looseObject({ type: z.literal("text"), text: z.string(), cache_control: cacheControl });
const imageBlock = z.looseObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [
    z.looseObject({
      type: z.literal("base64"),
      media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]),
      data: z.string().min(1),
    }),
    z.looseObject({ type: z.literal("url"), url: z.string().min(1) }),
  ]),
});
const documentBlock = z.looseObject({
  type: z.literal("document"),
  source: z.discriminatedUnion("type", [
    z.looseObject({
      type: z.literal("base64"),
      media_type: z.literal("application/pdf"),
      data: z.string().min(1),
    }),
    z.looseObject({ type: z.literal("text"), media_type: z.literal("text/plain"), data: z.string() }),
    z.looseObject({ type: z.literal("url"), url: z.string().min(1) }),
  ]),
  title: z.string().nullish(),
});
const toolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().max(128),
  name: z.string().max(128),
  input: z.unknown(),
});
const toolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().max(128),
  content: z.union([z.string(), z.array(z.discriminatedUnion("type", [textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
});
const thinkingBlock = z.looseObject({ type: z.enum(["thinking", "redacted_thinking"]) });
const block = z.discriminatedUnion("type", [
  textBlock,
  imageBlock,
  documentBlock,
  toolUseBlock,
  toolResultBlock,
  thinkingBlock,
]);
export type AnthropicBlock = z.infer<typeof block>;

const message = z.strictObject({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(block).max(256)]),
});
export type AnthropicMessage = z.infer<typeof message>;

const tool = z.looseObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  description: z.string().max(4096).optional(),
  input_schema: freeFormRecord(),
  type: z.literal("custom").nullish(),
  cache_control: cacheControl,
});

/** The fields of a Messages request this gateway serves. */
export const messagesRequestSchema = z.strictObject({
  model: z.string().min(1).max(256),
  max_tokens: z.number().int().min(1),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stop_sequences: z.array(z.string().max(256)).max(4).optional(),
  stream: z.boolean().optional(),
  tools: z.array(tool).max(128).optional(),
  tool_choice: z
    .discriminatedUnion("type", [
      z.strictObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
      z.strictObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
      z.strictObject({
        type: z.literal("tool"),
        name: z.string().max(128),
        disable_parallel_tool_use: z.boolean().optional(),
      }),
      z.strictObject({ type: z.literal("none") }),
    ])
    .optional(),
  metadata: z.strictObject({ user_id: z.string().max(256).nullish() }).optional(),
  /** Accepted and not honoured: the chat path has no thinking budget. */
  thinking: z
    .union([
      z.strictObject({ type: z.literal("enabled"), budget_tokens: z.number().int().min(1) }),
      z.strictObject({ type: z.literal("disabled") }),
    ])
    .optional(),
  service_tier: z.enum(["auto", "standard_only"]).optional(),
});
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

/** An Anthropic Messages response (documented, not enforced). */
export const messagesResponseSchema = z.looseObject({
  id: z.string(),
  type: z.literal("message"),
  role: z.literal("assistant"),
  model: z.string(),
  content: z.array(z.record(z.string(), z.unknown())),
  stop_reason: z.string().nullable(),
  usage: z.looseObject({ input_tokens: z.number(), output_tokens: z.number() }),
});

/** Anthropic's error body, with the request id. */
export const anthropicErrorSchema = z.object({
  type: z.literal("error"),
  error: z.object({ type: z.string(), message: z.string() }),
  request_id: z.string(),
});
