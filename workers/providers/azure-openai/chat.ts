import type { ChatCompletionResponse } from "../../../shared/schemas/chat.ts";
import { chatCompletionStreamWith, chatCompletionWith } from "../openai-compatible/chat.ts";
import type { ChatCall, ChatChunk } from "../types.ts";
import { azureClientFor } from "./endpoint.ts";

/** Azure OpenAI chat completions, not streamed (the deployment URL chooses the model). */
export function azureChat(call: ChatCall): Promise<ChatCompletionResponse> {
  return chatCompletionWith(azureClientFor(call.endpoint), call);
}

/** Azure OpenAI chat completions, streamed (`stream_options.include_usage` is honoured by Azure). */
export function azureChatStream(call: ChatCall): AsyncGenerator<ChatChunk> {
  return chatCompletionStreamWith(azureClientFor(call.endpoint), call);
}
