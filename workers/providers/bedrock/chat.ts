import { z } from "zod";
import { postJson, readJson } from "../native/http.ts";
import { completionOf, type NativeCompletion, type ToolCall, type Usage } from "../native/openai-shape.ts";
import { ProviderError } from "../openai-compatible/errors.ts";
import type { ChatCall } from "../types.ts";
import { bedrockSigner, bedrockURL, describeBedrockError } from "./endpoint.ts";
import { toConverseBody } from "./request.ts";

/** Converse `usage` (also the `metadata` event's usage in a stream). */
export const converseUsageSchema = z.object({
  inputTokens: z.number().default(0),
  outputTokens: z.number().default(0),
  cacheReadInputTokens: z.number().optional(),
  cacheWriteInputTokens: z.number().optional(),
});

const blockSchema = z.object({
  text: z.string().optional(),
  toolUse: z.object({ toolUseId: z.string(), name: z.string(), input: z.unknown() }).optional(),
});

const converseSchema = z.object({
  output: z.object({ message: z.object({ role: z.string(), content: z.array(blockSchema) }) }),
  stopReason: z.string(),
  usage: converseUsageSchema,
});

/** Converse `stopReason` → OpenAI `finish_reason`. */
export function bedrockFinishReason(reason: string | undefined): string {
  switch (reason) {
    case "max_tokens":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "guardrail_intervened":
    case "content_filtered":
      return "content_filter";
    default:
      return "stop";
  }
}

/** Converse usage → OpenAI usage (cache reads and writes count as prompt tokens). */
export function bedrockUsage(usage: z.infer<typeof converseUsageSchema>): Usage {
  const cached = usage.cacheReadInputTokens ?? 0;
  const prompt = usage.inputTokens + cached + (usage.cacheWriteInputTokens ?? 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

/** Sends a SigV4-signed request through the endpoint's signer. */
export function signedSend(call: ChatCall) {
  return (url: string, init: RequestInit) => bedrockSigner(call.endpoint).fetch(url, init);
}

/** POST /model/{id}/converse, answered in OpenAI's chat completion shape. */
export async function bedrockChat(call: ChatCall): Promise<NativeCompletion> {
  const where = `bedrock chat ${call.endpoint.id}`;
  const response = await postJson({
    url: bedrockURL(call.endpoint, "converse"),
    headers: { accept: "application/json" },
    body: toConverseBody(call.request),
    signal: call.signal,
    where,
    describeError: describeBedrockError,
    send: signedSend(call),
  });
  const parsed = converseSchema.safeParse(await readJson(response, where, call.signal));
  if (!parsed.success) throw new ProviderError("server", `${where}: unexpected response shape`);
  const answer = parsed.data;
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const block of answer.output.message.content) {
    if (block.text) text += block.text;
    if (block.toolUse) {
      toolCalls.push({
        id: block.toolUse.toolUseId,
        type: "function",
        function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) },
      });
    }
  }
  return completionOf({
    id: `chatcmpl-${response.headers.get("x-amzn-requestid") ?? crypto.randomUUID()}`,
    model: call.endpoint.model,
    text,
    toolCalls,
    finishReason: bedrockFinishReason(answer.stopReason),
    usage: bedrockUsage(answer.usage),
  });
}
