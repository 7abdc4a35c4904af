import { completionAsChunks } from "../../shared/formats/chat/replay.ts";
import type { Completion } from "../../shared/formats/chat/types.ts";
import { sseEvent } from "../../shared/formats/sse.ts";

export { type ChunkVerdict, CompletionAssembler } from "../../shared/formats/chat/assemble.ts";
export { SseParser } from "../../shared/formats/sse.ts";

const encoder = new TextEncoder();

/** A stored completion replayed as a stream, chunk by chunk as OpenAI sends them (tool calls and logprobs included). */
export function completionAsSse(completion: Completion, includeUsage: boolean): string {
  let out = "";
  for (const chunk of completionAsChunks(completion, includeUsage)) out += sseEvent(chunk);
  return out + sseEvent("[DONE]");
}

/** The event that ends a stream which failed after its first token: never a silent truncation. */
export function sseErrorEvent(message: string, code: string, requestId: string): Uint8Array {
  return encoder.encode(
    sseEvent({ error: { message, type: "server_error", code, param: null, request_id: requestId } }),
  );
}
