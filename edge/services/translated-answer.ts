import type { Completion } from "../../shared/formats/chat/types.ts";
import { type ChunkTranslator, translateChatStream } from "../../shared/formats/translate-stream.ts";

/** How another API's answer is made from a chat completion answer. */
export interface AnswerTranslation {
  /** The other API's body for a complete chat completion. */
  json(completion: Completion): unknown;
  /** A fresh translator for one streamed answer. */
  stream(): ChunkTranslator;
  /** The other API's error body for a refusal in OpenAI's error shape (by default passed on as is). */
  error?(status: number, body: unknown): unknown;
}

function isCompletion(body: unknown): body is Completion {
  return (body as { object?: unknown } | null)?.object === "chat.completion";
}

/**
 * A chat answer (from `answerChat`: a hit, a miss, a refusal or the fallback) in another API's shape,
 * with the same status and gateway headers (request id, cache, routing).
 */
export async function translateAnswer(response: Response, translation: AnswerTranslation): Promise<Response> {
  const out = new Headers(response.headers);
  out.delete("content-length");
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("text/event-stream") && response.body) {
    return new Response(translateChatStream(response.body, translation.stream()), {
      status: response.status,
      headers: out,
    });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, { status: response.status, headers: out });
  }
  out.set("content-type", "application/json");
  if (isCompletion(body))
    return new Response(JSON.stringify(translation.json(body)), { status: response.status, headers: out });
  const translated = translation.error ? translation.error(response.status, body) : body;
  return new Response(JSON.stringify(translated), { status: response.status, headers: out });
}
