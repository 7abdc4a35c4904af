import { Tiktoken } from "js-tiktoken/lite";
import type { RequestEvent } from "../../shared/events.ts";

/** How a token count was obtained (the event's `usage_source`). */
export type UsageSource = NonNullable<RequestEvent["usage_source"]>;

export interface TokenCount {
  tokens: number;
  source: UsageSource;
}

type EncodingName = "o200k_base" | "cl100k_base";

const encoders = new Map<EncodingName, Promise<Tiktoken>>();

/** The tiktoken encoding of an OpenAI model family, or null for models of other families. */
export function openAiEncoding(model: string): EncodingName | null {
  const name = model.toLowerCase().replace(/^openai\//, "");
  if (/^(gpt-4o|gpt-4\.1|gpt-5|o\d|chatgpt-4o)/.test(name)) return "o200k_base";
  if (/^(gpt-4|gpt-3\.5|text-embedding-)/.test(name)) return "cl100k_base";
  return null;
}

/** The encoder, its ranks loaded once on first use (they are large). */
function encoder(name: EncodingName): Promise<Tiktoken> {
  let loaded = encoders.get(name);
  if (!loaded) {
    loaded = (
      name === "o200k_base" ? import("js-tiktoken/ranks/o200k_base") : import("js-tiktoken/ranks/cl100k_base")
    ).then((ranks) => new Tiktoken(ranks.default));
    encoders.set(name, loaded);
  }
  return loaded;
}

/**
 * Counts the tokens of `text` for `model` when the upstream reported no usage: exactly with tiktoken
 * for OpenAI families; for other families (no tokenizer file is bundled for them) a length estimate of
 * one token per four characters, labelled `estimate`.
 */
export async function countTokens(model: string, text: string): Promise<TokenCount> {
  if (text.length === 0) return { tokens: 0, source: "tokenizer" };
  const encoding = openAiEncoding(model);
  if (encoding) {
    const tokens = (await encoder(encoding)).encode(text).length;
    return { tokens, source: "tokenizer" };
  }
  return { tokens: Math.ceil(text.length / 4), source: "estimate" };
}

/** Tokens a chat template adds per message (role markers), added to counted prompts. */
export const perMessageOverhead = 4;
