import { z } from "zod";
import { postJson, readJson } from "../native/http.ts";
import { completionOf, type NativeCompletion, type ToolCall, type Usage } from "../native/openai-shape.ts";
import { ProviderError } from "../openai-compatible/errors.ts";
import type { ChatCall } from "../types.ts";
import { anthropicHeaders, anthropicVersion, describeAnthropicError, messagesURL } from "./endpoint.ts";
import { toMessagesBody } from "./request.ts";

const usageSchema = z.object({
  input_tokens: z.number().default(0),
  output_tokens: z.number().default(0),
  cache_creation_input_tokens: z.number().nullable().optional(),
  cache_read_input_tokens: z.number().nullable().optional(),
});

const messageSchema = z.object({
  id: z.string(),
  type: z.literal("message"),
  model: z.string(),
  content: z.array(
    z.union([
      z.object({ type: z.literal("text"), text: z.string() }),
      z.object({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.unknown() }),
      z.object({ type: z.string() }),
    ]),
  ),
  stop_reason: z.string().nullable(),
  usage: usageSchema,
});

/** Messages `stop_reason` → OpenAI `finish_reason`. */
export function finishReasonOf(stopReason: string | null | undefined): string {
  switch (stopReason) {
    case "max_tokens":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}

/** Messages usage → OpenAI usage: cache reads and writes count as prompt tokens, reads also as cached. */
export function usageOf(usage: z.infer<typeof usageSchema>): Usage {
  const cached = usage.cache_read_input_tokens ?? 0;
  const prompt = usage.input_tokens + cached + (usage.cache_creation_input_tokens ?? 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.output_tokens,
    total_tokens: prompt + usage.output_tokens,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

export { usageSchema as anthropicUsageSchema };

/** POST /v1/messages, not streamed, answered in OpenAI's chat completion shape. */
export async function anthropicChat(call: ChatCall): Promise<NativeCompletion> {
  const where = `anthropic chat ${call.endpoint.id}`;
  const response = await postJson({
    url: messagesURL(call.endpoint),
    headers: anthropicHeaders(call.endpoint),
    body: toMessagesBody(call.request, call.endpoint.model, {
      stream: false,
      apiVersion: anthropicVersion(call.endpoint),
    }),
    signal: call.signal,
    where,
    describeError: describeAnthropicError,
  });
  const parsed = messageSchema.safeParse(await readJson(response, where, call.signal));
  if (!parsed.success) throw new ProviderError("server", `${where}: unexpected response shape`);
  const message = parsed.data;
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if ("text" in block && block.type === "text") text += block.text;
    else if ("input" in block && block.type === "tool_use") {
      toolCalls.push({
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  return completionOf({
    id: message.id,
    model: message.model,
    text,
    toolCalls,
    finishReason: finishReasonOf(message.stop_reason),
    usage: usageOf(message.usage),
  });
}
