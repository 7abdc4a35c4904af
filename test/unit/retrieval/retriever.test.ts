import { describe, expect, it } from "vitest";
import type { Embedder } from "../../../workers/retrieval/model-clients.ts";
import type { RetrievalStore } from "../../../workers/retrieval/retrieval-store.ts";
import { Retriever } from "../../../workers/retrieval/retriever.ts";
import type { ChunkHit, SearchScope } from "../../../workers/retrieval/store.ts";

/** A store whose active version can be switched; every hit names the version it was searched in. */
function switchableStore() {
  const state = { active: "m@1", chunks: 50, vectorHits: true, exists: true };
  const calls = {
    settings: 0,
    /** Settings read in the vector search's statement. */
    carried: 0,
    stats: 0,
    vectorVersions: [] as string[],
    keywordChunks: [] as number[],
    /** In call order: "rank" (BM25 from the postings), "scan" (BM25 by scanning), "rows" (rows of ranked hits). */
    keywordSteps: [] as string[],
  };
  const settings = () => (state.exists ? { threshold: 0.45, activeModelVersion: state.active } : null);
  const hitIn = (scope: SearchScope): ChunkHit => ({
    chunk_id: `${scope.modelVersion}-a`,
    document_id: "a.md",
    source: "a.md",
    text: "text",
    metadata: {},
    distance: 0.1,
  });
  const store: RetrievalStore = {
    collectionSettings: async () => {
      calls.settings++;
      return settings();
    },
    collectionStats: async () => {
      calls.stats++;
      const found = settings();
      return found ? { settings: found, stats: { chunks: state.chunks, meanTokens: 10 } } : null;
    },
    countChunks: async () => state.chunks,
    vectorSearch: async ({ scope }) => {
      calls.vectorVersions.push(scope.modelVersion);
      return state.vectorHits ? [hitIn(scope)] : [];
    },
    vectorSearchWithSettings: async ({ scope }) => {
      calls.vectorVersions.push(scope.modelVersion);
      if (!state.vectorHits) return { hits: [], settings: undefined };
      calls.carried++;
      return { hits: [hitIn(scope)], settings: settings() };
    },
    keywordSearch: async ({ stats }) => {
      calls.keywordSteps.push("scan");
      calls.keywordChunks.push(stats.chunks);
      return [];
    },
    rankByPostings: async ({ scope, stats }) => {
      calls.keywordSteps.push("rank");
      calls.keywordChunks.push(stats.chunks);
      return [{ chunk_id: `${scope.modelVersion}-k`, document_id: "k.md", keyword_score: 2 }];
    },
    rowsOfRanked: async (scope, ranked, vector) => {
      calls.keywordSteps.push(`rows of ${ranked.length} with a ${vector.length}-d vector`);
      return ranked.map((r) => ({ ...hitIn(scope), chunk_id: r.chunk_id, distance: 0.3, keyword_score: 2 }));
    },
  };
  return { state, calls, store };
}

function retrieverOver(store: RetrievalStore, clock: { now: number }, steps?: string[]) {
  const embedded: string[] = [];
  const embedderFor = (modelVersion: string): Embedder => ({
    modelVersion,
    dimensions: 3,
    embed: async (texts) => {
      steps?.push("embed");
      embedded.push(modelVersion);
      return texts.map(() => [1, 0, 0]);
    },
  });
  const retriever = new Retriever(store, embedderFor, {
    defaultThreshold: 0.45,
    exactSearchMaxChunks: 10,
    candidatesPerSide: 5,
    tuning: { candidateListSize: 16, fetchMultiplier: 1 },
    scopeStatsTtlMs: 5_000,
    retry: { attempts: 1, baseDelayMs: 1 },
    now: () => clock.now,
  });
  return { retriever, embedded };
}

const query = { tenant: "t", collection: "docs", question: "what is a", topK: 3 };
const chunkIds = (result: Awaited<ReturnType<Retriever["retrieve"]>>) =>
  result.kind === "ranked" ? result.chunks.map((c) => c.chunk_id) : [];

describe("Retriever with cached scope stats", () => {
  it("reads settings and stats together once, then the settings with the vector search while the stats are fresh", async () => {
    const { calls, store } = switchableStore();
    const clock = { now: 0 };
    const { retriever } = retrieverOver(store, clock);
    expect(chunkIds(await retriever.retrieve(query))).toEqual(["m@1-a", "m@1-k"]);
    expect(chunkIds(await retriever.retrieve(query))).toEqual(["m@1-a", "m@1-k"]);
    expect(calls).toMatchObject({ stats: 1, carried: 1, settings: 0 });
    clock.now += 5_000;
    await retriever.retrieve(query);
    expect(calls).toMatchObject({ stats: 2, carried: 1, settings: 0 });
  });

  it("reads the settings on their own when the vector search found no row to carry them", async () => {
    const { state, calls, store } = switchableStore();
    const { retriever } = retrieverOver(store, { now: 0 });
    await retriever.retrieve(query);
    state.vectorHits = false;
    expect(chunkIds(await retriever.retrieve(query))).toEqual(["m@1-k"]);
    expect(calls).toMatchObject({ stats: 1, carried: 0, settings: 1 });
    state.active = "";
    expect((await retriever.retrieve(query)).kind).toBe("empty");
    expect(calls.settings).toBe(2);
  });

  it("drops a search begun on a version that is no longer active and searches the active one", async () => {
    const { state, calls, store } = switchableStore();
    const clock = { now: 0 };
    const { retriever, embedded } = retrieverOver(store, clock);
    await retriever.retrieve(query);
    state.active = "m@2";
    state.chunks = 70;
    const result = await retriever.retrieve(query);
    expect(chunkIds(result)).toEqual(["m@2-a", "m@2-k"]);
    expect(embedded).toEqual(["m@1", "m@1", "m@2"]);
    expect(calls.vectorVersions).toEqual(["m@1", "m@1", "m@2"]);
    // BM25 of the new version used its own, freshly read, size.
    expect(calls.keywordChunks.at(-1)).toBe(70);
    // The new version is cached from then on.
    expect(chunkIds(await retriever.retrieve(query))).toEqual(["m@2-a", "m@2-k"]);
    expect(calls.stats).toBe(2);
  });

  it("a collection the tenant does not have is a 404 collection_not_found, cached or not", async () => {
    const notFound = { name: "GatewayError", code: "COLLECTION_NOT_FOUND", status: 404 };
    const { state, store } = switchableStore();
    state.exists = false;
    await expect(retrieverOver(store, { now: 0 }).retriever.retrieve(query)).rejects.toMatchObject(notFound);
    // Deleted while its stats are cached: the settings carried by the search (or read alone) say so.
    for (const vectorHits of [true, false]) {
      const switchable = switchableStore();
      const { retriever } = retrieverOver(switchable.store, { now: 0 });
      await retriever.retrieve(query);
      switchable.state.exists = false;
      switchable.state.vectorHits = vectorHits;
      await expect(retriever.retrieve(query)).rejects.toMatchObject(notFound);
    }
  });

  it("a collection whose active version was cleared is empty, whatever the cache holds", async () => {
    const { state, store } = switchableStore();
    const { retriever } = retrieverOver(store, { now: 0 });
    await retriever.retrieve(query);
    state.active = "";
    expect((await retriever.retrieve(query)).kind).toBe("empty");
  });

  it("ranks by BM25 from the postings while the question is embedded, then reads the ranked rows with the vector", async () => {
    const { calls, store } = switchableStore();
    const { retriever } = retrieverOver(store, { now: 0 }, calls.keywordSteps);
    const result = await retriever.retrieve(query);
    expect(calls.keywordSteps).toEqual(["rank", "embed", "rows of 1 with a 3-d vector"]);
    expect(result.kind === "ranked" ? result.chunks.map((c) => [c.chunk_id, c.keyword_rank]) : []).toEqual([
      ["m@1-a", null],
      ["m@1-k", 1],
    ]);
  });

  it("with metadata filters BM25 scans the filtered scope after the embedding, not the postings", async () => {
    const { calls, store } = switchableStore();
    const { retriever } = retrieverOver(store, { now: 0 }, calls.keywordSteps);
    await retriever.retrieve({ ...query, filter: { lang: "en" } });
    expect(calls.keywordSteps).toEqual(["embed", "scan"]);
  });
});
