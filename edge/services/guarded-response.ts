import type { OutputFilter } from "../../shared/guardrails/output.ts";
import { SseParser } from "./sse.ts";

interface ChoiceLike {
  message?: { content?: unknown };
  delta?: { content?: unknown };
  finish_reason?: string | null;
}
interface ChunkLike {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  choices?: ChoiceLike[];
}

/**
 * The answer with the output guardrails applied: a JSON completion's message text is filtered whole;
 * a stream's deltas go through the filter, which holds back only the tail a match could still span
 * and releases it before the finishing chunk. Other responses (errors, non-200) pass unchanged.
 */
export async function guardResponse(response: Response, filter: OutputFilter): Promise<Response> {
  if (!filter.active || response.status !== 200 || !response.body) return response;
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("text/event-stream")) {
    return new Response(response.body.pipeThrough(sseFilter(filter)), response);
  }
  if (!type.includes("application/json")) return response;
  const text = await response.text();
  let body: ChunkLike;
  try {
    body = JSON.parse(text) as ChunkLike;
  } catch {
    return new Response(text, response);
  }
  for (const choice of body.choices ?? []) {
    if (typeof choice.message?.content === "string")
      choice.message.content = filter.apply(choice.message.content);
  }
  return new Response(JSON.stringify(body), response);
}

const encoder = new TextEncoder();

function sse(data: string): Uint8Array {
  return encoder.encode(`data: ${data}\n\n`);
}

/** A chunk carrying only `content`, modelled on the stream's last chunk. */
function contentChunk(model: ChunkLike | undefined, content: string): string {
  return JSON.stringify({
    id: model?.id ?? "",
    object: "chat.completion.chunk",
    created: model?.created ?? Math.floor(Date.now() / 1000),
    model: model?.model ?? "",
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  });
}

/** Rewrites an SSE stream of chat chunks through the output filter. */
function sseFilter(filter: OutputFilter): TransformStream<Uint8Array, Uint8Array> {
  const parser = new SseParser();
  let last: ChunkLike | undefined;
  let flushed = false;
  const release = (controller: TransformStreamDefaultController<Uint8Array>) => {
    if (flushed) return;
    flushed = true;
    const rest = filter.flush();
    if (rest) controller.enqueue(sse(contentChunk(last, rest)));
  };
  return new TransformStream({
    transform(bytes, controller) {
      for (const data of parser.push(bytes)) {
        if (data.trim() === "[DONE]") {
          release(controller);
          controller.enqueue(sse(data));
          continue;
        }
        let chunk: ChunkLike;
        try {
          chunk = JSON.parse(data) as ChunkLike;
        } catch {
          controller.enqueue(sse(data));
          continue;
        }
        last = chunk;
        const choice = chunk.choices?.[0];
        if (choice?.delta && typeof choice.delta.content === "string") {
          choice.delta.content = filter.push(choice.delta.content);
        }
        // The finishing chunk carries whatever was held back.
        if (choice?.delta && choice.finish_reason && !flushed) {
          flushed = true;
          const rest = filter.flush();
          if (rest)
            choice.delta.content = `${typeof choice.delta.content === "string" ? choice.delta.content : ""}${rest}`;
        }
        controller.enqueue(sse(JSON.stringify(chunk)));
      }
    },
    flush(controller) {
      release(controller);
    },
  });
}
