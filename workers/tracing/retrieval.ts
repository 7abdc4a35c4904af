import { SpanKind } from "@opentelemetry/api";
import { attr } from "../../shared/trace-attributes.ts";
import { inSpan } from "./spans.ts";

/** What the retrieval span records of a result. */
interface Retrieved {
  kind: "empty" | "ranked";
  threshold: number;
  chunks?: { relevance: number }[];
  strategy?: string;
}

/** One retrieval (both sides, fused) as a span: the collection, the outcome and the best relevance. */
export function tracedRetrieval<T extends Retrieved>(
  query: { collection: string; topK: number },
  retrieve: () => Promise<T>,
): Promise<T> {
  return inSpan(
    "tiergate.retrieve",
    {
      attributes: {
        [attr.genAiOperationName]: "retrieval",
        [attr.genAiDataSourceId]: query.collection,
        [attr.ragCollection]: query.collection,
        "tiergate.rag.top_k": query.topK,
      },
    },
    async (span) => {
      const result = await retrieve();
      span.setAttribute(attr.ragOutcome, result.kind);
      span.setAttribute("tiergate.rag.threshold", result.threshold);
      if (result.strategy) span.setAttribute("tiergate.rag.strategy", result.strategy);
      const chunks = result.chunks ?? [];
      span.setAttribute(attr.ragPassages, chunks.length);
      if (chunks.length > 0) span.setAttribute(attr.ragTopScore, Math.max(...chunks.map((c) => c.relevance)));
      return result;
    },
  );
}

/** One side of hybrid retrieval (`vector` or `keyword`) as a span, with the hits it returned. */
export function tracedSide<T>(side: "vector" | "keyword", search: () => Promise<T>, count: (v: T) => number) {
  return inSpan(`tiergate.retrieve.${side}`, { attributes: { "tiergate.rag.side": side } }, async (span) => {
    const value = await search();
    span.setAttribute("tiergate.rag.hits", count(value));
    return value;
  });
}

/** Embedding the question with the collection's embedding version, as a GenAI CLIENT span. */
export function tracedQuestionEmbedding<T>(modelVersion: string, embed: () => Promise<T>): Promise<T> {
  return inSpan(
    `embeddings ${modelVersion}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { [attr.genAiOperationName]: "embeddings", [attr.genAiRequestModel]: modelVersion },
    },
    embed,
  );
}
