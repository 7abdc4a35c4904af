import { type Chunk, chunkSchema } from "./chat/types.ts";
import { SseParser } from "./sse.ts";

/** Turns the chunks of a chat completion stream into another API's stream events (SSE text). */
export interface ChunkTranslator {
  /** The events for one chat chunk. */
  chunk(chunk: Chunk): string;
  /** The events that end a stream which completed (`[DONE]` arrived). */
  end(): string;
  /** The events that end a stream which broke (an error event upstream, a malformed chunk, a cut). */
  fail(message: string, code: string): string;
}

const encoder = new TextEncoder();

/** What one `data` payload of a chat stream is. */
type Payload =
  | { kind: "done" }
  | { kind: "chunk"; chunk: Chunk }
  | { kind: "error"; message: string; code: string };

function classify(data: string): Payload {
  if (data.trim() === "[DONE]") return { kind: "done" };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return {
      kind: "error",
      message: "The upstream stream sent a malformed chunk.",
      code: "malformed_response",
    };
  }
  const error = (json as { error?: { message?: unknown; code?: unknown } } | null)?.error;
  if (error)
    return {
      kind: "error",
      message: String(error.message ?? "stream failed"),
      code: String(error.code ?? "upstream_error"),
    };
  const parsed = chunkSchema.safeParse(json);
  if (!parsed.success) {
    return {
      kind: "error",
      message: "The upstream stream sent a malformed chunk.",
      code: "malformed_response",
    };
  }
  return { kind: "chunk", chunk: parsed.data };
}

/**
 * A chat completion SSE stream (the edge's relay or a cached replay) translated event by event. The
 * stream ends with `end()` after `[DONE]`, or with `fail()` when it broke, so a cut stream never looks
 * complete in the other API either.
 */
export function translateChatStream(
  body: ReadableStream<Uint8Array>,
  translator: ChunkTranslator,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const parser = new SseParser();
  let finished = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (!finished) {
        const read = await reader.read().catch(() => null);
        if (!read || read.done) {
          finished = true;
          controller.enqueue(
            encoder.encode(translator.fail("The upstream stream ended before completing.", "upstream_error")),
          );
          controller.close();
          return;
        }
        let out = "";
        for (const data of parser.push(read.value)) {
          const payload = classify(data);
          if (payload.kind === "chunk") out += translator.chunk(payload.chunk);
          else {
            out +=
              payload.kind === "done" ? translator.end() : translator.fail(payload.message, payload.code);
            finished = true;
            break;
          }
        }
        if (out) controller.enqueue(encoder.encode(out));
        if (finished) {
          controller.close();
          await reader.cancel().catch(() => undefined);
          return;
        }
        if (out) return;
      }
    },
    cancel() {
      return reader.cancel().catch(() => undefined);
    },
  });
}
