import type { OutputFilter } from "../../shared/guardrails/output.ts";
import { SseParser } from "./sse.ts";

interface ChoiceLike {
  index?: number;
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

/** A chunk carrying only `content` for choice `index`, modelled on the stream's last chunk. */
function contentChunk(model: ChunkLike | undefined, index: number, content: string): string {
  return JSON.stringify({
    id: model?.id ?? "",
    object: "chat.completion.chunk",
    created: model?.created ?? Math.floor(Date.now() / 1000),
    model: model?.model ?? "",
    choices: [{ index, delta: { content }, finish_reason: null }],
  });
}

interface ChoiceState {
  filter: OutputFilter;
  finished: boolean;
}

/** Rewrites an SSE stream of chat chunks through the output filter, one filter per choice. */
function sseFilter(filter: OutputFilter): TransformStream<Uint8Array, Uint8Array> {
  const parser = new SseParser();
  const choices = new Map<number, ChoiceState>();
  let last: ChunkLike | undefined;
  const stateOf = (index: number): ChoiceState => {
    let state = choices.get(index);
    if (!state) {
      state = { filter: choices.size === 0 ? filter : filter.fork(), finished: false };
      choices.set(index, state);
    }
    return state;
  };
  /** Releases what every unfinished choice still holds, as extra chunks (the stream is ending). */
  const releaseAll = (controller: TransformStreamDefaultController<Uint8Array>) => {
    for (const [index, state] of choices) {
      if (state.finished) continue;
      state.finished = true;
      const rest = state.filter.flush();
      if (rest) controller.enqueue(sse(contentChunk(last, index, rest)));
    }
  };
  const rewrite = (chunk: ChunkLike) => {
    for (const [i, choice] of (chunk.choices ?? []).entries()) {
      if (!choice.delta) continue;
      const state = stateOf(typeof choice.index === "number" ? choice.index : i);
      let content = typeof choice.delta.content === "string" ? state.filter.push(choice.delta.content) : null;
      // The finishing chunk of a choice carries whatever was held back.
      if (choice.finish_reason && !state.finished) {
        state.finished = true;
        content = `${content ?? ""}${state.filter.flush()}`;
      }
      if (content !== null) choice.delta.content = content;
    }
  };
  return new TransformStream({
    transform(bytes, controller) {
      for (const data of parser.push(bytes)) {
        if (data.trim() === "[DONE]") {
          releaseAll(controller);
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
        rewrite(chunk);
        controller.enqueue(sse(JSON.stringify(chunk)));
      }
    },
    flush(controller) {
      releaseAll(controller);
    },
  });
}
