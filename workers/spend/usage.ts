import type { RequestEvent } from "../../shared/events.ts";
import { type ChatMessage, messageText } from "../../shared/schemas/chat.ts";
import { countTokens, perMessageOverhead } from "./tokens.ts";

/** What the pool knows of an answered request whose upstream reported no usage. */
export interface UnmeteredAnswer {
  /** The upstream model (its family picks the tokenizer). */
  model: string;
  messages: readonly ChatMessage[];
  answer: string;
}

/**
 * The event with token counts the pool measured itself when the upstream reported no usage (some
 * streams): the model family's tokenizer, else a length estimate labelled `estimate`. An event that
 * already has tokens is returned as it is, marked `usage`.
 */
export async function withMeasuredUsage(
  event: RequestEvent,
  answered: UnmeteredAnswer,
  upstreamReported: boolean,
): Promise<RequestEvent> {
  if (upstreamReported || event.status !== 200) return { ...event, usage_source: "usage" };
  const promptText = answered.messages.map(messageText).join("\n");
  const [prompt, completion] = await Promise.all([
    countTokens(answered.model, promptText),
    countTokens(answered.model, answered.answer),
  ]);
  const estimated = prompt.source === "estimate" || completion.source === "estimate";
  return {
    ...event,
    prompt_tokens: prompt.tokens + perMessageOverhead * answered.messages.length,
    completion_tokens: completion.tokens,
    usage_source: estimated ? "estimate" : "tokenizer",
  };
}
