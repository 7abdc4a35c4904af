import { eventJson, postJson, sseEvents } from "../native/http.ts";
import { chunkMaker } from "../native/openai-shape.ts";
import { ProviderError } from "../openai-compatible/errors.ts";
import type { ChatCall, ChatChunk } from "../types.ts";
import { geminiFinishReason, geminiUsage, generateContentResponseSchema, partsContent } from "./chat.ts";
import { describeGeminiError, geminiHeaders, geminiURL } from "./endpoint.ts";
import { toGenerateContentBody } from "./request.ts";

/**
 * POST :streamGenerateContent?alt=sse, as OpenAI chunks. Each SSE `data:` line is a whole
 * GenerateContentResponse: its text parts become content deltas, function calls whole tool-call deltas,
 * the candidate's finishReason the finish chunk, and the last usageMetadata the usage chunk. The stream
 * has no terminator of its own: one that ends without a finishReason is cut.
 */
export async function* geminiChatStream(call: ChatCall): AsyncGenerator<ChatChunk> {
  const where = `gemini stream ${call.endpoint.id}`;
  const body = toGenerateContentBody(call.request, true);
  const response = await postJson({
    url: geminiURL(call.endpoint, "streamGenerateContent"),
    headers: geminiHeaders(call.endpoint),
    body,
    signal: call.signal,
    where,
    describeError: describeGeminiError,
  });
  let make: ReturnType<typeof chunkMaker> | undefined;
  let toolCount = 0;
  let finish: string | undefined;
  let usage: ReturnType<typeof geminiUsage> | undefined;
  for await (const event of sseEvents(response, where, call.signal)) {
    const parsed = generateContentResponseSchema.safeParse(eventJson(event, where));
    if (!parsed.success) throw new ProviderError("stream_cut", `${where}: malformed stream event`);
    const answer = parsed.data;
    if (!make) {
      make = chunkMaker(
        `chatcmpl-${answer.responseId ?? crypto.randomUUID()}`,
        answer.modelVersion ?? call.endpoint.model,
      );
      yield make.delta({ role: "assistant", content: "" });
    }
    if (answer.usageMetadata) usage = geminiUsage(answer.usageMetadata);
    const candidate = answer.candidates[0];
    if (!candidate) {
      if (answer.promptFeedback?.blockReason) finish = "content_filter";
      continue;
    }
    const { text, toolCalls } = partsContent(candidate.content?.parts ?? [], (i) => `call_0_${i}`, toolCount);
    if (text) yield make.delta({ content: text });
    if (toolCalls.length > 0) {
      yield make.delta({
        tool_calls: toolCalls.map((c, i) => ({
          index: toolCount + i,
          id: c.id,
          type: "function" as const,
          function: c.function,
        })),
      });
      toolCount += toolCalls.length;
    }
    if (candidate.finishReason) finish = geminiFinishReason(candidate.finishReason, toolCount > 0);
  }
  if (!make || !finish)
    throw new ProviderError("stream_cut", `${where}: stream ended without a finishReason`);
  yield make.finish(finish);
  if (usage) yield make.usage(usage);
}
