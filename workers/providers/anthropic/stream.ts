import { eventJson, postJson, sseEvents } from "../native/http.ts";
import { chunkMaker } from "../native/openai-shape.ts";
import { failureOfStatus, ProviderError } from "../openai-compatible/errors.ts";
import type { ChatCall, ChatChunk } from "../types.ts";
import { anthropicUsageSchema, finishReasonOf, usageOf } from "./chat.ts";
import { anthropicHeaders, anthropicVersion, describeAnthropicError, messagesURL } from "./endpoint.ts";
import { toMessagesBody } from "./request.ts";

/** The HTTP status Messages documents for each error type (an `error` event carries only the type). */
const statusOfErrorType: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

function streamError(data: Record<string, unknown>, where: string): ProviderError {
  const error = (data.error ?? {}) as { type?: unknown; message?: unknown };
  const type = typeof error.type === "string" ? error.type : "api_error";
  const status = statusOfErrorType[type] ?? 500;
  return new ProviderError(failureOfStatus(status), `${where}: ${type}: ${String(error.message)}`, status);
}

interface StreamState {
  make: ReturnType<typeof chunkMaker>;
  /** Content block index → OpenAI tool call index. */
  tools: Map<number, number>;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens?: number | null;
    cache_creation_input_tokens?: number | null;
  };
  stopReason: string | null;
}

/** Translates one Messages stream event into OpenAI chunks. */
function translate(type: string, data: Record<string, unknown>, state: StreamState): ChatChunk[] {
  const index = typeof data.index === "number" ? data.index : 0;
  if (type === "content_block_start") {
    const block = (data.content_block ?? {}) as { type?: string; id?: string; name?: string; text?: string };
    if (block.type === "tool_use") {
      const toolIndex = state.tools.size;
      state.tools.set(index, toolIndex);
      return [
        state.make.delta({
          tool_calls: [
            {
              index: toolIndex,
              id: block.id ?? "",
              type: "function",
              function: { name: block.name ?? "", arguments: "" },
            },
          ],
        }),
      ];
    }
    return block.text ? [state.make.delta({ content: block.text })] : [];
  }
  if (type === "content_block_delta") {
    const delta = (data.delta ?? {}) as { type?: string; text?: string; partial_json?: string };
    if (delta.type === "text_delta" && delta.text) return [state.make.delta({ content: delta.text })];
    const toolIndex = state.tools.get(index);
    if (delta.type === "input_json_delta" && toolIndex !== undefined && delta.partial_json) {
      return [
        state.make.delta({ tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json } }] }),
      ];
    }
    return [];
  }
  if (type === "message_delta") {
    const delta = (data.delta ?? {}) as { stop_reason?: string | null };
    if (delta.stop_reason !== undefined) state.stopReason = delta.stop_reason;
    const usage = anthropicUsageSchema.partial().safeParse(data.usage ?? {});
    if (usage.success && usage.data.output_tokens !== undefined)
      state.usage.output_tokens = usage.data.output_tokens;
  }
  return [];
}

/**
 * POST /v1/messages with `stream: true`, as OpenAI chunks: the role chunk at `message_start`, text and
 * tool-call argument deltas as they arrive, the finish chunk and a usage chunk at `message_stop`. An
 * `error` event (e.g. `overloaded_error`) throws its typed failure; a stream without `message_stop` is cut.
 */
export async function* anthropicChatStream(call: ChatCall): AsyncGenerator<ChatChunk> {
  const where = `anthropic stream ${call.endpoint.id}`;
  const response = await postJson({
    url: messagesURL(call.endpoint),
    headers: anthropicHeaders(call.endpoint),
    body: toMessagesBody(call.request, call.endpoint.model, {
      stream: true,
      apiVersion: anthropicVersion(call.endpoint),
    }),
    signal: call.signal,
    where,
    describeError: describeAnthropicError,
  });
  let state: StreamState | undefined;
  for await (const event of sseEvents(response, where, call.signal)) {
    const data = eventJson(event, where);
    const type = event.event ?? (typeof data.type === "string" ? data.type : "");
    if (type === "error") throw streamError(data, where);
    if (type === "message_start") {
      const message = (data.message ?? {}) as { id?: string; model?: string; usage?: unknown };
      const usage = anthropicUsageSchema.safeParse(message.usage ?? {});
      state = {
        make: chunkMaker(message.id ?? "", message.model ?? call.endpoint.model),
        tools: new Map(),
        usage: usage.success ? usage.data : { input_tokens: 0, output_tokens: 0 },
        stopReason: null,
      };
      yield state.make.delta({ role: "assistant", content: "" });
      continue;
    }
    if (!state) throw new ProviderError("stream_cut", `${where}: ${type} before message_start`);
    if (type === "message_stop") {
      yield state.make.finish(finishReasonOf(state.stopReason));
      yield state.make.usage(usageOf(state.usage));
      return;
    }
    yield* translate(type, data, state);
  }
  throw new ProviderError("stream_cut", `${where}: stream ended without message_stop`);
}
