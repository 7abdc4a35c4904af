import { z } from "zod";
import { postJson, readJson } from "../native/http.ts";
import type { NativeCompletion, ToolCall, Usage } from "../native/openai-shape.ts";
import { ProviderError } from "../openai-compatible/errors.ts";
import type { ChatCall } from "../types.ts";
import { describeGeminiError, geminiHeaders, geminiURL } from "./endpoint.ts";
import { toGenerateContentBody } from "./request.ts";

const partSchema = z.object({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  functionCall: z
    .object({ id: z.string().optional(), name: z.string(), args: z.unknown().optional() })
    .optional(),
});

const candidateSchema = z.object({
  content: z.object({ parts: z.array(partSchema).default([]) }).optional(),
  finishReason: z.string().optional(),
  index: z.number().optional(),
});

/** One GenerateContentResponse (a whole answer, or one event of a stream). */
export const generateContentResponseSchema = z.object({
  candidates: z.array(candidateSchema).default([]),
  promptFeedback: z.object({ blockReason: z.string().optional() }).optional(),
  usageMetadata: z
    .object({
      promptTokenCount: z.number().default(0),
      candidatesTokenCount: z.number().default(0),
      thoughtsTokenCount: z.number().default(0),
      cachedContentTokenCount: z.number().default(0),
    })
    .optional(),
  modelVersion: z.string().optional(),
  responseId: z.string().optional(),
});
/** One parsed GenerateContentResponse. */
export type GenerateContentResponse = z.infer<typeof generateContentResponseSchema>;

/** Gemini `finishReason` → OpenAI `finish_reason`; a candidate with function calls finishes with tool_calls. */
export function geminiFinishReason(reason: string | undefined, hasToolCalls: boolean): string {
  if (reason === "MAX_TOKENS") return "length";
  if (reason && reason !== "STOP" && reason !== "FINISH_REASON_UNSPECIFIED") return "content_filter";
  return hasToolCalls ? "tool_calls" : "stop";
}

/** usageMetadata → OpenAI usage (thinking tokens count as completion tokens). */
export function geminiUsage(meta: GenerateContentResponse["usageMetadata"]): Usage {
  const prompt = meta?.promptTokenCount ?? 0;
  const completion = (meta?.candidatesTokenCount ?? 0) + (meta?.thoughtsTokenCount ?? 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: meta?.cachedContentTokenCount ?? 0 },
  };
}

/** The text and function calls of a candidate's parts (thought parts are left out). */
export function partsContent(
  parts: z.infer<typeof partSchema>[],
  callId: (index: number) => string,
  firstIndex = 0,
): { text: string; toolCalls: ToolCall[] } {
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const part of parts) {
    if (part.thought) continue;
    if (part.text) text += part.text;
    if (part.functionCall) {
      toolCalls.push({
        id: part.functionCall.id ?? callId(firstIndex + toolCalls.length),
        type: "function",
        function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
      });
    }
  }
  return { text, toolCalls };
}

/** POST :generateContent, answered in OpenAI's shape: one choice per candidate. */
export async function geminiChat(call: ChatCall): Promise<NativeCompletion> {
  const where = `gemini chat ${call.endpoint.id}`;
  const response = await postJson({
    url: geminiURL(call.endpoint, "generateContent"),
    headers: geminiHeaders(call.endpoint),
    body: toGenerateContentBody(call.request),
    signal: call.signal,
    where,
    describeError: describeGeminiError,
  });
  const parsed = generateContentResponseSchema.safeParse(await readJson(response, where, call.signal));
  if (!parsed.success) throw new ProviderError("server", `${where}: unexpected response shape`);
  const answer = parsed.data;
  const id = `chatcmpl-${answer.responseId ?? crypto.randomUUID()}`;
  const candidates = answer.candidates.length > 0 ? answer.candidates : [{ finishReason: "SAFETY" }];
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: answer.modelVersion ?? call.endpoint.model,
    choices: candidates.map((candidate, index) => {
      const { text, toolCalls } = partsContent(
        "content" in candidate ? (candidate.content?.parts ?? []) : [],
        (i) => `call_${index}_${i}`,
      );
      return {
        index,
        message: {
          role: "assistant" as const,
          content: text.length > 0 || toolCalls.length === 0 ? text : null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: geminiFinishReason(candidate.finishReason, toolCalls.length > 0),
      };
    }),
    usage: geminiUsage(answer.usageMetadata),
  };
}
