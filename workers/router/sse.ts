import type { SSEStreamingApi } from "hono/streaming";
import { errorBody, GatewayError } from "../../shared/errors.ts";
import type { ChatChunk } from "../providers/types.ts";
import type { StreamHandle, StreamOutcome } from "./stream.ts";

/** `usage.prompt_tokens_details.cached_tokens` as OpenAI reports it; 0 when absent. */
export function cachedTokensOf(usage: unknown): number {
  if (typeof usage !== "object" || usage === null) return 0;
  const details = (usage as { prompt_tokens_details?: { cached_tokens?: unknown } }).prompt_tokens_details;
  const cached = details?.cached_tokens;
  return typeof cached === "number" && Number.isInteger(cached) && cached >= 0 ? cached : 0;
}

export interface PipedStream {
  outcome: StreamOutcome;
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens the upstream served from its cache, when it said so. */
  cachedTokens: number;
  /** Whether the upstream reported usage (else the pool counts tokens itself). */
  sawUsage: boolean;
  /** The answer's text, for counting its tokens when the upstream reported no usage. */
  text: string;
}

/**
 * Writes an opened stream to the client as SSE. A failure after the first token cannot fail over any
 * more (the client has text): the stream then ends with an SSE error event and no `[DONE]`, so it never
 * looks like a complete answer. The usage-only chunk is forwarded only when the client asked for it.
 */
export async function pipeChatStream(
  stream: SSEStreamingApi,
  handle: StreamHandle,
  options: {
    requestId: string;
    includeUsage: boolean;
    /** An SSE comment written before `[DONE]` of a complete stream (the spend report). */
    trailer?: (piped: PipedStream) => Promise<string | null>;
  },
): Promise<PipedStream> {
  const result: PipedStream = {
    outcome: "ok",
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    sawUsage: false,
    text: "",
  };
  let clientGone = false;
  stream.onAbort(() => {
    clientGone = true;
  });
  const write = async (chunk: ChatChunk) => {
    if (chunk.usage) {
      result.sawUsage = true;
      result.promptTokens = chunk.usage.prompt_tokens;
      result.completionTokens = chunk.usage.completion_tokens;
      result.cachedTokens = cachedTokensOf(chunk.usage);
    }
    for (const choice of chunk.choices) result.text += choice.delta.content ?? "";
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
      const trailer = await options.trailer?.(result);
      if (trailer) await stream.write(`: ${trailer}\n\n`);
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
