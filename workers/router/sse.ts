import type { SSEStreamingApi } from "hono/streaming";
import { errorBody, GatewayError } from "../../shared/errors.ts";
import type { ChatChunk } from "../providers/types.ts";
import type { StreamHandle, StreamOutcome } from "./stream.ts";

export interface PipedStream {
  outcome: StreamOutcome;
  promptTokens: number;
  completionTokens: number;
}

/**
 * Writes an opened stream to the client as SSE. A failure after the first token cannot fail over any
 * more (the client has text): the stream then ends with an SSE error event and no `[DONE]`, so it never
 * looks like a complete answer. The usage-only chunk is forwarded only when the client asked for it.
 */
export async function pipeChatStream(
  stream: SSEStreamingApi,
  handle: StreamHandle,
  options: { requestId: string; includeUsage: boolean },
): Promise<PipedStream> {
  const result: PipedStream = { outcome: "ok", promptTokens: 0, completionTokens: 0 };
  let clientGone = false;
  stream.onAbort(() => {
    clientGone = true;
  });
  const write = async (chunk: ChatChunk) => {
    if (chunk.usage) {
      result.promptTokens = chunk.usage.prompt_tokens;
      result.completionTokens = chunk.usage.completion_tokens;
    }
    if (chunk.choices.length === 0 && !options.includeUsage) return;
    const { usage: _usage, ...rest } = chunk;
    await stream.writeSSE({ data: JSON.stringify(options.includeUsage ? chunk : { ...rest, usage: null }) });
  };
  try {
    for (const chunk of handle.head) await write(chunk);
    for await (const chunk of handle.rest) {
      if (clientGone) break;
      await write(chunk);
    }
    if (clientGone) {
      result.outcome = "neutral";
      await handle.rest.return(undefined);
    } else {
      await stream.writeSSE({ data: "[DONE]" });
    }
  } catch (error: unknown) {
    result.outcome = clientGone ? "neutral" : "failed";
    const broken = new GatewayError("UPSTREAM_UNAVAILABLE", "The model stream broke after it had started.", {
      cause: error,
    });
    if (!clientGone)
      await stream
        .writeSSE({ data: JSON.stringify(errorBody(broken, options.requestId)) })
        .catch(() => undefined);
  } finally {
    handle.finish(result.outcome);
  }
  return result;
}
