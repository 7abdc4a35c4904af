import type OpenAI from "openai";
import type { ChatCompletionRequest, ChatCompletionResponse } from "../../../shared/schemas/chat.ts";
import type { ChatCall, ChatChunk } from "../types.ts";
import { fetchChatCompletion } from "./chat-fetch.ts";
import { clientFor } from "./endpoint.ts";
import { toProviderError } from "./errors.ts";

/** The upstream body: the client's request (vLLM extras included) with the endpoint's model name. */
function upstreamBody(request: ChatCompletionRequest, model: string, stream: boolean) {
  const { stream: _stream, stream_options: _options, rag: _rag, ...rest } = request;
  return stream
    ? { ...rest, model, stream: true as const, stream_options: { include_usage: true } }
    : { ...rest, model, stream: false as const };
}

/** POST /v1/chat/completions, not streamed (plain fetch: chat-fetch.ts). */
export function chatCompletion(call: ChatCall): Promise<ChatCompletionResponse> {
  return fetchChatCompletion(
    call,
    upstreamBody(call.request, call.endpoint.model, false),
    `chat ${call.endpoint.id}`,
  );
}

/** A chat completion through a given SDK client (the Azure adapter passes its own). */
export async function chatCompletionWith(client: OpenAI, call: ChatCall): Promise<ChatCompletionResponse> {
  const where = `chat ${call.endpoint.id}`;
  try {
    const body = upstreamBody(call.request, call.endpoint.model, false);
    const completion: unknown = await client.chat.completions.create(
      body as Parameters<ReturnType<typeof clientFor>["chat"]["completions"]["create"]>[0] & {
        stream: false;
      },
      { signal: call.signal },
    );
    return completion as ChatCompletionResponse;
  } catch (error: unknown) {
    throw toProviderError(error, where, call.signal);
  }
}

/**
 * POST /v1/chat/completions with `stream: true`: the upstream's chunks, in order. A stream that ends
 * without a finish reason is a cut stream and throws, so a truncated answer never looks complete.
 */
export function chatCompletionStream(call: ChatCall): AsyncGenerator<ChatChunk> {
  return chatCompletionStreamWith(clientFor(call.endpoint), call);
}

/** A streamed chat completion through a given SDK client. */
export async function* chatCompletionStreamWith(client: OpenAI, call: ChatCall): AsyncGenerator<ChatChunk> {
  const where = `chat stream ${call.endpoint.id}`;
  let finished = false;
  try {
    const body = upstreamBody(call.request, call.endpoint.model, true);
    const stream = await client.chat.completions.create(
      body as Parameters<ReturnType<typeof clientFor>["chat"]["completions"]["create"]>[0] & { stream: true },
      { signal: call.signal },
    );
    for await (const chunk of stream) {
      const typed = chunk as unknown as ChatChunk;
      if (typed.choices?.some((choice) => choice.finish_reason)) finished = true;
      yield typed;
    }
  } catch (error: unknown) {
    throw toProviderError(error, where, call.signal);
  }
  if (!finished) throw toProviderError(new Error("stream ended without a finish reason"), where);
}
