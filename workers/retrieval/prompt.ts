import type { ScoredChunk } from "./fusion.ts";
import type { GenerationMessage } from "./model-clients.ts";

/**
 * The RAG prompt, versioned: the version goes into eval results so figures name the prompt they were
 * measured with. Change the text → bump the version and re-run `npm run eval:rag`.
 */
export const promptVersion = "rag-prompt-v4";

/** The one reply the model gives when the passages do not hold the answer; it maps to an abstention. */
export const abstainSentinel = "NOT_IN_PASSAGES";

/** Characters of one chunk put into the prompt (chunks are built to fit; this only guards odd data). */
const maxChunkChars = 1_200;

/**
 * Phrasings small models use instead of the sentinel. Matched on the lower-cased reply; any of them
 * counts as the sentinel (the answer gate then abstains).
 */
const sentinelVariants = [
  "not_in_passages",
  "not in passages",
  "not in the passages",
  "i don't know",
  "i do not know",
  "i cannot answer",
  "i can't answer",
  "not mentioned",
  "not provided",
  "not specified",
  "not stated",
  "no information",
];

/**
 * The model's reply without what small models add after it: an echoed "Question:"/"Reply:" turn of
 * the prompt's example. This is the text the gate checks and the caller receives.
 */
export function cleanReply(text: string): string {
  const cut = text.search(/\s(Question|Reply|Example passage):/);
  return (cut >= 0 ? text.slice(0, cut) : text).replace(/^\s*Reply:\s*/, "").trim();
}

/** True when a generated reply is the abstain sentinel (or a plain "I don't know"). */
export function isSentinelReply(reply: string): boolean {
  const lower = reply.toLowerCase().replace(/[\u2018\u2019]/g, "'");
  if (/\b(do|does|did)(n't| not) (mention|say|state|contain|include|specify|provide|give)\b/.test(lower))
    return true;
  return sentinelVariants.some((v) => lower.includes(v));
}

/**
 * The RAG prompt: a system message that restricts the model to the numbered passages and names the
 * sentinel, then the passages and the question. Small models misbehave without a system message.
 */
export function buildAnswerMessages(question: string, context: readonly ScoredChunk[]): GenerationMessage[] {
  const blocks = context.map((chunk) => chunk.text.slice(0, maxChunkChars));
  return [
    {
      role: "system",
      content:
        "You answer a question using only facts written in the passages. " +
        "Reply with one short sentence that copies the numbers, units and names exactly as the passages write them. " +
        `If the passages do not state the answer, reply exactly: ${abstainSentinel}`,
    },
    { role: "user", content: `Passages:\n${blocks.join("\n\n")}\n\nQuestion: ${question}` },
  ];
}
