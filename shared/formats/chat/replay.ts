import type { Completion, CompletionChoice } from "./types.ts";

/** A chunk of a replayed stream. */
export interface ReplayChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  system_fingerprint?: string | null;
  choices: Record<string, unknown>[];
  usage?: Completion["usage"] | null;
}

/** The chunks of one choice: its text (with its log probabilities), its tool calls, its finish. */
function choiceChunks(choice: CompletionChoice): Record<string, unknown>[] {
  const { message } = choice;
  const first: Record<string, unknown> = {
    index: choice.index,
    delta: {
      role: "assistant",
      content: message.content ?? (message.tool_calls?.length ? null : ""),
      ...(message.refusal ? { refusal: message.refusal } : {}),
    },
    finish_reason: null,
  };
  if (choice.logprobs) first.logprobs = choice.logprobs;
  const out = [first];
  if (message.tool_calls?.length) {
    out.push({
      index: choice.index,
      delta: { tool_calls: message.tool_calls.map((call, index) => ({ index, ...call })) },
      finish_reason: null,
    });
  }
  out.push({ index: choice.index, delta: {}, finish_reason: choice.finish_reason ?? "stop" });
  return out;
}

/**
 * A complete completion as the chunks OpenAI would have streamed: per choice the text (with its log
 * probabilities), the tool calls whole, then the finish reason; the usage chunk when asked for.
 */
export function completionAsChunks(completion: Completion, includeUsage: boolean): ReplayChunk[] {
  const base = {
    id: completion.id,
    object: "chat.completion.chunk" as const,
    created: completion.created,
    model: completion.model,
    ...(completion.system_fingerprint ? { system_fingerprint: completion.system_fingerprint } : {}),
  };
  const chunks: ReplayChunk[] = [];
  for (const choice of completion.choices) {
    for (const part of choiceChunks(choice)) chunks.push({ ...base, choices: [part] });
  }
  if (includeUsage) chunks.push({ ...base, choices: [], usage: completion.usage });
  return chunks;
}
