import type { ChatCompletionResponse } from "../../shared/schemas/chat.ts";
import type { EmbeddingsResponse } from "../../shared/schemas/embeddings.ts";
import { anthropicChat } from "./anthropic/chat.ts";
import { anthropicChatStream } from "./anthropic/stream.ts";
import { azureChat, azureChatStream } from "./azure-openai/chat.ts";
import { azureEmbeddings } from "./azure-openai/embeddings.ts";
import { bedrockChat } from "./bedrock/chat.ts";
import { bedrockChatStream } from "./bedrock/stream.ts";
import { geminiChat } from "./gemini/chat.ts";
import { geminiChatStream } from "./gemini/stream.ts";
import { chatCompletion, chatCompletionStream } from "./openai-compatible/chat.ts";
import { createEmbeddings } from "./openai-compatible/embeddings.ts";
import { ProviderError } from "./openai-compatible/errors.ts";
import type { ChatCall, ChatChunk, EmbeddingsCall, ProviderKind } from "./types.ts";

/** One provider's chat capability: a whole completion and a stream, both in OpenAI's shape. */
interface ChatAdapter {
  complete(call: ChatCall): Promise<ChatCompletionResponse>;
  stream(call: ChatCall): AsyncGenerator<ChatChunk>;
}

/** The chat adapter of each provider kind; `rules` is answered by the router itself, never called here. */
const chatAdapters: Record<Exclude<ProviderKind, "rules">, ChatAdapter> = {
  "openai-compatible": { complete: chatCompletion, stream: chatCompletionStream },
  anthropic: { complete: anthropicChat, stream: anthropicChatStream },
  gemini: { complete: geminiChat, stream: geminiChatStream },
  "azure-openai": { complete: azureChat, stream: azureChatStream },
  bedrock: { complete: bedrockChat, stream: bedrockChatStream },
};

function adapterOf(call: ChatCall): ChatAdapter {
  return call.endpoint.provider === "rules"
    ? chatAdapters["openai-compatible"]
    : chatAdapters[call.endpoint.provider];
}

/** A chat completion on the endpoint's provider (chosen by its `provider` field). */
export function providerChat(call: ChatCall): Promise<ChatCompletionResponse> {
  return adapterOf(call).complete(call);
}

/** A streamed chat completion on the endpoint's provider. */
export function providerChatStream(call: ChatCall): AsyncGenerator<ChatChunk> {
  return adapterOf(call).stream(call);
}

/**
 * Embeddings on the endpoint's provider: OpenAI-compatible and Azure OpenAI serve them; any other
 * provider is `misconfigured` (an embeddings tier or model must not list it), so routing moves on.
 */
export function providerEmbeddings(call: EmbeddingsCall): Promise<EmbeddingsResponse> {
  if (call.endpoint.provider === "azure-openai") return azureEmbeddings(call);
  if (call.endpoint.provider === "openai-compatible") return createEmbeddings(call);
  const error = new ProviderError(
    "misconfigured",
    `${call.endpoint.provider} endpoints do not serve embeddings`,
  );
  return Promise.reject(error);
}
