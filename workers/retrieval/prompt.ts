import type { ScoredChunk } from "./fusion.ts";
import type { GenerationMessage } from "./model-clients.ts";

/** Characters of one chunk put into the prompt (chunks are built to fit; this only guards odd data). */
const maxChunkChars = 1_200;

/**
 * The RAG prompt: a system message that restricts the model to the numbered context, then the context
 * and the question. Small models misbehave without a system message.
 */
export function buildAnswerMessages(question: string, context: readonly ScoredChunk[]): GenerationMessage[] {
  const blocks = context.map(
    (chunk, i) => `[${i + 1}] (source: ${chunk.source})\n${chunk.text.slice(0, maxChunkChars)}`,
  );
  return [
    {
      role: "system",
      content:
        "You answer questions using only the numbered context passages. Cite the passages you use as [1], [2]. " +
        "If the context does not contain the answer, say that you do not know. Be brief.",
    },
    { role: "user", content: `Context:\n${blocks.join("\n\n")}\n\nQuestion: ${question}` },
  ];
}
