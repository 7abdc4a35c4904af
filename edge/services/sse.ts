import { completionAsChunks } from "../../shared/formats/chat/replay.ts";
import type { Completion } from "../../shared/formats/chat/types.ts";
import { SseParser, sseEvent } from "../../shared/formats/sse.ts";
import { parseSpendReport, type SpendReport, spendTrailerPrefix } from "../../shared/schemas/spend.ts";

export { type ChunkVerdict, CompletionAssembler } from "../../shared/formats/chat/assemble.ts";
export { SseParser };

/** An SSE parser that also keeps the pool's spend trailer (a `: tiergate-spend …` comment). */
export class SpendSseParser extends SseParser {
  /** The trailer, once it arrived. */
  spend: SpendReport | null = null;

  protected override comment(text: string): void {
    if (text.startsWith(spendTrailerPrefix))
      this.spend = parseSpendReport(text.slice(spendTrailerPrefix.length));
  }
}

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
