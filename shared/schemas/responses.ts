import { z } from "zod";
import { flatStringMap, freeFormRecord } from "../json-limits.ts";

/*
 * OpenAI's Responses API request (POST /v1/responses), strict at the top level like chat: an unknown
 * field is a 400 naming it. Input items echoed back from an earlier response carry ids and statuses,
 * which are accepted and ignored.
 */

const inputText = z.looseObject({ type: z.literal("input_text"), text: z.string() });
const outputText = z.looseObject({ type: z.literal("output_text"), text: z.string() });
const refusal = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });
const inputImage = z.looseObject({
  type: z.literal("input_image"),
  image_url: z.string().min(1).nullish(),
  file_id: z.string().max(256).nullish(),
  detail: z.enum(["auto", "low", "high"]).optional(),
});
const inputFile = z.looseObject({
  type: z.literal("input_file"),
  file_data: z.string().optional(),
  file_id: z.string().max(256).nullish(),
  file_url: z.string().optional(),
  filename: z.string().max(512).optional(),
});
const inputAudio = z.looseObject({
  type: z.literal("input_audio"),
  input_audio: z.strictObject({ data: z.string().min(1), format: z.enum(["wav", "mp3"]) }),
});
const contentPart = z.discriminatedUnion("type", [
  inputText,
  outputText,
  refusal,
  inputImage,
  inputFile,
  inputAudio,
]);
export type ResponsesContentPart = z.infer<typeof contentPart>;

const messageItem = z.looseObject({
  type: z.literal("message").optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(contentPart).max(64)]),
});
const functionCallItem = z.looseObject({
  type: z.literal("function_call"),
  call_id: z.string().max(128),
  name: z.string().max(128),
  arguments: z.string(),
});
const functionCallOutputItem = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: z.string().max(128),
  output: z.union([z.string(), z.array(contentPart).max(64)]),
});
const inputItem = z.union([functionCallItem, functionCallOutputItem, messageItem]);
export type ResponsesInputItem = z.infer<typeof inputItem>;

const functionTool = z.strictObject({
  type: z.literal("function"),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  description: z.string().max(4096).nullish(),
  parameters: freeFormRecord().nullish(),
  strict: z.boolean().nullish(),
});

const textFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    name: z.string().max(64),
    schema: freeFormRecord(),
    description: z.string().max(4096).optional(),
    strict: z.boolean().nullish(),
  }),
]);

/** The fields of a Responses request this gateway serves (conversations, prompts, background refused). */
export const responsesRequestSchema = z.strictObject({
  model: z.string().min(1).max(256),
  input: z.union([z.string(), z.array(inputItem).min(1)]),
  instructions: z.string().nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_obfuscation: z.boolean().optional() }).nullish(),
  tools: z.array(functionTool).max(128).optional(),
  tool_choice: z
    .union([
      z.enum(["none", "auto", "required"]),
      z.strictObject({ type: z.literal("function"), name: z.string().max(128) }),
    ])
    .optional(),
  parallel_tool_calls: z.boolean().nullish(),
  max_tool_calls: z.number().int().min(1).nullish(),
  text: z
    .strictObject({ format: textFormat.optional(), verbosity: z.enum(["low", "medium", "high"]).nullish() })
    .optional(),
  reasoning: z
    .strictObject({
      effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullish(),
      summary: z.enum(["auto", "concise", "detailed"]).nullish(),
      generate_summary: z.enum(["auto", "concise", "detailed"]).nullish(),
    })
    .nullish(),
  include: z.array(z.string().max(128)).max(16).nullish(),
  metadata: flatStringMap().nullish(),
  user: z.string().max(256).optional(),
  safety_identifier: z.string().max(256).optional(),
  prompt_cache_key: z.string().max(1024).optional(),
  prompt_cache_retention: z.enum(["in-memory", "24h"]).nullish(),
  service_tier: z.enum(["auto", "default", "flex", "scale", "priority"]).nullish(),
  store: z.boolean().nullish(),
  truncation: z.enum(["auto", "disabled"]).nullish(),
  /** A stored response (`store: true`) of the same tenant this one continues. */
  previous_response_id: z.string().max(256).nullish(),
  conversation: z.unknown().optional(),
  background: z.boolean().nullish(),
  prompt: z.unknown().optional(),
});
export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;

/** A Responses API response object (what the route answers; documented, not enforced). */
export const responsesResponseSchema = z.looseObject({
  id: z.string(),
  object: z.literal("response"),
  created_at: z.number(),
  status: z.enum(["completed", "incomplete", "failed", "in_progress"]),
  model: z.string(),
  output: z.array(z.record(z.string(), z.unknown())),
  usage: z
    .looseObject({ input_tokens: z.number(), output_tokens: z.number(), total_tokens: z.number() })
    .nullable(),
});
