import { fetchError, postJson } from "../native/http.ts";
import { chunkMaker } from "../native/openai-shape.ts";
import { failureOfStatus, ProviderError } from "../openai-compatible/errors.ts";
import type { ChatCall, ChatChunk } from "../types.ts";
import { bedrockFinishReason, bedrockUsage, converseUsageSchema, signedSend } from "./chat.ts";
import { bedrockURL, describeBedrockError } from "./endpoint.ts";
import { type EventMessage, EventStreamDecoder } from "./event-stream.ts";
import { toConverseBody } from "./request.ts";

/** The HTTP status ConverseStream documents for each in-stream exception. */
const statusOfException: Record<string, number> = {
  validationException: 400,
  throttlingException: 429,
  internalServerException: 500,
  serviceUnavailableException: 503,
  modelStreamErrorException: 500,
};

interface State {
  make: ReturnType<typeof chunkMaker>;
  tools: Map<number, number>;
  stopReason?: string;
  usage?: ReturnType<typeof bedrockUsage>;
}

type Payload = Record<string, unknown>;

function translate(type: string, data: Payload, state: State): ChatChunk[] {
  const index = typeof data.contentBlockIndex === "number" ? data.contentBlockIndex : 0;
  if (type === "contentBlockStart") {
    const tool = ((data.start ?? {}) as { toolUse?: { toolUseId?: string; name?: string } }).toolUse;
    if (!tool) return [];
    const toolIndex = state.tools.size;
    state.tools.set(index, toolIndex);
    return [
      state.make.delta({
        tool_calls: [
          {
            index: toolIndex,
            id: tool.toolUseId ?? "",
            type: "function",
            function: { name: tool.name ?? "", arguments: "" },
          },
        ],
      }),
    ];
  }
  if (type === "contentBlockDelta") {
    const delta = (data.delta ?? {}) as { text?: string; toolUse?: { input?: string } };
    if (delta.text) return [state.make.delta({ content: delta.text })];
    const toolIndex = state.tools.get(index);
    if (delta.toolUse?.input && toolIndex !== undefined) {
      return [
        state.make.delta({
          tool_calls: [{ index: toolIndex, function: { arguments: delta.toolUse.input } }],
        }),
      ];
    }
    return [];
  }
  if (type === "messageStop" && typeof data.stopReason === "string") state.stopReason = data.stopReason;
  if (type === "metadata") {
    const usage = converseUsageSchema.safeParse(data.usage ?? {});
    if (usage.success) state.usage = bedrockUsage(usage.data);
  }
  return [];
}

function payloadOf(message: EventMessage, where: string): Payload {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(message.payload));
    if (value && typeof value === "object") return value as Payload;
  } catch {
    // reported below
  }
  throw new ProviderError("stream_cut", `${where}: malformed event payload`);
}

function exceptionOf(message: EventMessage, payload: Payload, where: string): ProviderError {
  const type = String(
    message.headers[":exception-type"] ?? message.headers[":error-code"] ?? "internalServerException",
  );
  const status = statusOfException[type] ?? 500;
  return new ProviderError(
    failureOfStatus(status),
    `${where}: ${type}: ${String(payload.message ?? "")}`,
    status,
  );
}

/**
 * POST /model/{id}/converse-stream: decodes the event-stream frames and translates the events
 * (messageStart, contentBlockStart/Delta/Stop, messageStop, metadata) into OpenAI chunks. An exception
 * message throws its typed failure; a stream without messageStop is cut.
 */
export async function* bedrockChatStream(call: ChatCall): AsyncGenerator<ChatChunk> {
  const where = `bedrock stream ${call.endpoint.id}`;
  const response = await postJson({
    url: bedrockURL(call.endpoint, "converse-stream"),
    headers: { accept: "application/vnd.amazon.eventstream" },
    body: toConverseBody(call.request, true),
    signal: call.signal,
    where,
    describeError: describeBedrockError,
    send: signedSend(call),
  });
  if (!response.body) throw new ProviderError("server", `${where}: no response body`);
  const decoder = new EventStreamDecoder();
  const reader = response.body.getReader();
  const state: State = {
    make: chunkMaker(`chatcmpl-${crypto.randomUUID()}`, call.endpoint.model),
    tools: new Map(),
  };
  yield state.make.delta({ role: "assistant", content: "" });
  try {
    for (;;) {
      const read = await reader.read().catch((error: unknown) => {
        throw fetchError(error, where, call.signal);
      });
      if (read.done) break;
      for (const message of decoder.push(read.value)) {
        const payload = payloadOf(message, where);
        if (message.headers[":message-type"] !== "event") throw exceptionOf(message, payload, where);
        yield* translate(String(message.headers[":event-type"] ?? ""), payload, state);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  if (state.stopReason === undefined || decoder.pending) {
    throw new ProviderError("stream_cut", `${where}: stream ended without messageStop`);
  }
  yield state.make.finish(bedrockFinishReason(state.stopReason));
  if (state.usage) yield state.make.usage(state.usage);
}
