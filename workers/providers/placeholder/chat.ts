import type { ChatCompletionRequest, ChatCompletionResponse } from "../../../shared/schemas/chat.ts";
import { messageText } from "../../../shared/schemas/chat.ts";
import { placeholderEndpoint } from "./endpoint.ts";

const approxTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

/** A deterministic answer that states it is a placeholder, so nobody mistakes it for a model's. */
export function placeholderChat(request: ChatCompletionRequest, requestId: string): ChatCompletionResponse {
  const last = request.messages.at(-1);
  const prompt = request.messages.map(messageText).join("\n");
  const content = `[tiergate placeholder provider: no model is configured for this tier] Your last ${
    last?.role ?? "user"
  } message had ${last ? messageText(last).length : 0} characters.`;
  const promptTokens = approxTokens(prompt);
  const completionTokens = approxTokens(content);
  return {
    id: `chatcmpl-${requestId}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: placeholderEndpoint.model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

/** The same answer as OpenAI-style SSE chunks. */
export function* placeholderChatChunks(completion: ChatCompletionResponse): Generator<string> {
  const base = {
    id: completion.id,
    object: "chat.completion.chunk",
    created: completion.created,
    model: completion.model,
  };
  const text = completion.choices[0]?.message.content ?? "";
  yield JSON.stringify({
    ...base,
    choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
  });
  for (const piece of text.match(/.{1,16}/gs) ?? []) {
    yield JSON.stringify({
      ...base,
      choices: [{ index: 0, delta: { content: piece }, finish_reason: null }],
    });
  }
  yield JSON.stringify({
    ...base,
    choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
    usage: completion.usage,
  });
}
