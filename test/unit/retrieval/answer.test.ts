import { describe, expect, it } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { abstentions } from "../../../shared/schemas/answer.ts";
import { type AnswerDependencies, answerQuestion } from "../../../workers/retrieval/answer.ts";
import type { Embedder, Generator } from "../../../workers/retrieval/model-clients.ts";
import type { RetrievalStore } from "../../../workers/retrieval/retrieval-store.ts";
import { Retriever } from "../../../workers/retrieval/retriever.ts";
import type { ChunkHit } from "../../../workers/retrieval/store.ts";

/** An in-memory stand-in for the ClickHouse store: fixed hits, optional failures before success. */
function fakeStore(options: {
  chunks: number;
  vector: ChunkHit[];
  keyword?: ChunkHit[];
  failures?: number;
}): RetrievalStore {
  let failuresLeft = options.failures ?? 0;
  const fail = () => {
    if (failuresLeft > 0) {
      failuresLeft--;
      throw new DependencyError("clickhouse", true, "connection refused");
    }
  };
  const settings = { threshold: 0.45, activeModelVersion: "m@1" };
  return {
    collectionStats: async () => {
      fail();
      // A collection that exists; with chunks 0 it is empty (one never created is a 404, see retriever).
      return { settings, stats: { chunks: options.chunks, meanTokens: 10 } };
    },
    collectionSettings: async () => {
      fail();
      return settings;
    },
    countChunks: async () => options.chunks,
    vectorSearch: async () => options.vector,
    vectorSearchWithSettings: async () => ({
      hits: options.vector,
      settings: options.vector.length > 0 ? settings : undefined,
    }),
    keywordSearch: async () => options.keyword ?? [],
    rankByPostings: async () =>
      (options.keyword ?? []).map((h) => ({
        chunk_id: h.chunk_id,
        document_id: h.document_id,
        keyword_score: 1,
      })),
    rowsOfRanked: async () => options.keyword ?? [],
  };
}

const hit = (id: string, similarity: number): ChunkHit => ({
  chunk_id: id,
  document_id: `${id}.md`,
  source: `${id}.md`,
  text: `text of ${id}`,
  metadata: {},
  distance: 1 - similarity,
});

function countingModels() {
  const calls = { embed: 0, generate: 0 };
  const embedder: Embedder = {
    modelVersion: "m@1",
    dimensions: 3,
    embed: async (texts) => {
      calls.embed++;
      return texts.map(() => [1, 0, 0]);
    },
  };
  const generator: Generator = {
    generate: async () => {
      calls.generate++;
      return {
        text: " Answer [1]. ",
        model: "gen",
        usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      };
    },
  };
  return { calls, embedder, generator };
}

function deps(
  store: RetrievalStore,
  models: ReturnType<typeof countingModels>,
  onRetry?: () => void,
): AnswerDependencies {
  const retriever = new Retriever(store, () => models.embedder, {
    defaultThreshold: 0.45,
    exactSearchMaxChunks: 1000,
    candidatesPerSide: 10,
    tuning: { candidateListSize: 64, fetchMultiplier: 2 },
    retry: { attempts: 3, baseDelayMs: 1 },
    onRetry,
  });
  return {
    retriever,
    generator: models.generator,
    defaultTopK: 2,
    defaultThreshold: 0.45,
    defaultMaxTokens: 16,
    generationRetry: { attempts: 1, baseDelayMs: 1 },
  };
}

const ctx = { tenant: "t", requestId: "r1" };

describe("answerQuestion", () => {
  it("no chunks: the no-context abstention, without embedding or generating", async () => {
    const models = countingModels();
    const { response } = await answerQuestion(
      deps(fakeStore({ chunks: 0, vector: [] }), models),
      { question: "q", collection: "c" },
      ctx,
    );
    expect(response).toMatchObject({
      rule: "no_context",
      answer: abstentions.no_context,
      citations: [],
      model: null,
    });
    expect(response.scores).toEqual({ best: null, threshold: 0.45, retrieved: 0 });
    expect(models.calls).toEqual({ embed: 0, generate: 0 });
  });

  it("best score under the threshold: the below-threshold abstention with the scores, no generation", async () => {
    const models = countingModels();
    const store = fakeStore({ chunks: 3, vector: [hit("a", 0.4), hit("b", 0.2)] });
    const { response } = await answerQuestion(deps(store, models), { question: "q", collection: "c" }, ctx);
    expect(response).toMatchObject({ rule: "below_threshold", answer: abstentions.below_threshold });
    expect(response.scores.best).toBeCloseTo(0.4);
    expect(response.scores.retrieved).toBe(2);
    expect(models.calls.generate).toBe(0);
  });

  it("a request threshold overrides the collection's", async () => {
    const models = countingModels();
    const store = fakeStore({ chunks: 3, vector: [hit("a", 0.4)] });
    const { response } = await answerQuestion(
      deps(store, models),
      { question: "q", collection: "c", threshold: 0.3 },
      ctx,
    );
    expect(response.rule).toBe("generated");
    expect(response.scores.threshold).toBe(0.3);
  });

  it("generates from the top_k chunks at or above the threshold and cites them", async () => {
    const models = countingModels();
    const store = fakeStore({
      chunks: 5,
      vector: [hit("a", 0.9), hit("b", 0.7), hit("c", 0.6), hit("d", 0.1)],
    });
    const { response } = await answerQuestion(deps(store, models), { question: "q", collection: "c" }, ctx);
    expect(response).toMatchObject({ rule: "generated", answer: "Answer [1].", model: "gen" });
    expect(response.citations.map((c) => c.chunk_id)).toEqual(["a", "b"]);
    expect(response.citations[0]?.score).toBeCloseTo(0.9);
    expect(models.calls.generate).toBe(1);
  });

  it("ClickHouse failing for good: retrieval_unavailable with the no-context text, no generation", async () => {
    const models = countingModels();
    const store = fakeStore({ chunks: 3, vector: [hit("a", 0.9)], failures: 10 });
    const outcome = await answerQuestion(deps(store, models), { question: "q", collection: "c" }, ctx);
    expect(outcome.response).toMatchObject({ rule: "retrieval_unavailable", answer: abstentions.no_context });
    expect(outcome.retrievalError).toBeInstanceOf(DependencyError);
    expect(models.calls.generate).toBe(0);
  });

  it("retries a retryable ClickHouse failure and then answers", async () => {
    const models = countingModels();
    let retries = 0;
    const store = fakeStore({ chunks: 3, vector: [hit("a", 0.9)], failures: 1 });
    const { response } = await answerQuestion(
      deps(store, models, () => retries++),
      { question: "q", collection: "c" },
      ctx,
    );
    expect(retries).toBe(1);
    expect(response.rule).toBe("generated");
  });
});
