import { describe, expect, it } from "vitest";
import { createLogger } from "../../../shared/logger.ts";
import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import type { Embedder } from "../../../workers/retrieval/model-clients.ts";
import { SemanticCache, shareableAnswer } from "../../../workers/semantic-cache/service.ts";
import type {
  SemanticEntry,
  SemanticNeighbour,
  SemanticSearch,
  SemanticStore,
} from "../../../workers/semantic-cache/store.ts";

/** An in-memory store with the ClickHouse store's contract (scope filter, expiry at read). */
class MemoryStore implements SemanticStore {
  entries: SemanticEntry[] = [];
  searches: SemanticSearch[] = [];
  failing = false;
  async partitionSize(tenant: string, partition: string, modelVersion: string): Promise<number> {
    if (this.failing) throw new Error("store down");
    return this.entries.filter(
      (e) => e.tenant === tenant && e.partition === partition && e.modelVersion === modelVersion,
    ).length;
  }
  async nearest(
    scope: { tenant: string; partition: string; modelVersion: string },
    query: { embedding: readonly number[]; k: number; search: SemanticSearch },
  ): Promise<SemanticNeighbour[]> {
    this.searches.push(query.search);
    const now = Date.now();
    return this.entries
      .filter(
        (e) =>
          e.tenant === scope.tenant &&
          e.partition === scope.partition &&
          e.modelVersion === scope.modelVersion &&
          e.expiresAt.getTime() > now,
      )
      .map((e) => ({
        prompt: e.prompt,
        response: e.response,
        similarity: e.embedding.reduce((sum, x, i) => sum + x * (query.embedding[i] ?? 0), 0),
      }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, query.k);
  }
  async insert(entries: readonly SemanticEntry[]): Promise<void> {
    this.entries.push(...entries);
  }
}

/** Vectors by prompt: a fixed table, so similarities are known. */
function tableEmbedder(table: Record<string, number[]>): Embedder {
  return {
    modelVersion: "test@1",
    dimensions: 2,
    async embed(texts) {
      return texts.map((t) => {
        const v = table[t];
        if (!v) throw new Error(`no vector for ${t}`);
        return v;
      });
    },
  };
}

const vectors: Record<string, number[]> = {
  "What is the price of plan A?": [1, 0],
  "How much is plan A?": [0.99, Math.sqrt(1 - 0.99 ** 2)],
  "What is the price of plan B?": [0.995, Math.sqrt(1 - 0.995 ** 2)],
  "Tell me a joke": [0, 1],
  price: [1, 0],
  much: [0.9, Math.sqrt(1 - 0.81)],
  key: [1, 0],
  value: [0, 1],
  "Does key k1 exist?": [1, 0],
};

function ask(prompt: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest {
  return { model: "auto", temperature: 0, messages: [{ role: "user", content: prompt }], ...extra };
}

const answer = (content: string, finish = "stop") =>
  JSON.stringify({
    id: "c",
    object: "chat.completion",
    created: 0,
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finish }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });

function setup(options: { threshold?: number; exactMaxRows?: number; sizeTtlMs?: number } = {}) {
  const store = new MemoryStore();
  const cache = new SemanticCache({
    store,
    embedder: tableEmbedder(vectors),
    logger: createLogger({ level: "error" }),
    threshold: options.threshold ?? 0.95,
    exactMaxRows: options.exactMaxRows ?? 100,
    deadlineMs: 1_000,
    ...(options.sizeTtlMs === undefined ? {} : { sizeTtlMs: options.sizeTtlMs }),
  });
  return { store, cache };
}

async function remember(cache: SemanticCache, tenant: string, prompt: string, ttlSeconds = 60) {
  const miss = await cache.lookup(tenant, ask(prompt));
  if (miss.kind !== "miss") throw new Error(`expected a miss, got ${miss.kind}`);
  expect(cache.store(miss.pending, answer(`about ${prompt}`), ttlSeconds)).toBe(true);
  await cache.flush();
}

describe("SemanticCache", () => {
  it("serves a paraphrase above the threshold, with its similarity", async () => {
    const { cache } = setup();
    await remember(cache, "t1", "What is the price of plan A?");
    const hit = await cache.lookup("t1", ask("How much is plan A?"));
    expect(hit).toMatchObject({ kind: "hit", response: answer("about What is the price of plan A?") });
    expect(hit.kind === "hit" && hit.similarity).toBeCloseTo(0.99, 5);
  });

  it("never serves a near-miss the guard catches, however similar", async () => {
    const { cache } = setup();
    await remember(cache, "t1", "What is the price of plan A?");
    expect((await cache.lookup("t1", ask("What is the price of plan B?"))).kind).toBe("miss");
  });

  it("never crosses tenants", async () => {
    const { cache } = setup();
    await remember(cache, "t1", "What is the price of plan A?");
    expect((await cache.lookup("t2", ask("What is the price of plan A?"))).kind).toBe("miss");
  });

  it("never serves across a different system prompt or tools", async () => {
    const { cache } = setup();
    await remember(cache, "t1", "What is the price of plan A?");
    const withSystem = ask("What is the price of plan A?", {
      messages: [
        { role: "system", content: "Answer in French." },
        { role: "user", content: "What is the price of plan A?" },
      ],
    });
    expect((await cache.lookup("t1", withSystem)).kind).toBe("miss");
    const withTools = ask("What is the price of plan A?", {
      tools: [{ type: "function", function: { name: "prices" } }],
    });
    expect((await cache.lookup("t1", withTools)).kind).toBe("miss");
  });

  it("does not serve a swap of words that mean different things", async () => {
    const { cache } = setup();
    vectors["Does the key exist?"] = [1, 0];
    vectors["Does the value exist?"] = [0.999, Math.sqrt(1 - 0.999 ** 2)];
    await remember(cache, "t1", "Does the key exist?");
    expect((await cache.lookup("t1", ask("Does the value exist?"))).kind).toBe("miss");
  });

  it("respects a stricter per-key threshold, never a looser one", async () => {
    const { cache } = setup({ threshold: 0.95 });
    await remember(cache, "t1", "What is the price of plan A?");
    expect((await cache.lookup("t1", ask("How much is plan A?"), { threshold: 0.995 })).kind).toBe("miss");
    expect(cache.thresholdFor(0.5)).toBe(0.95);
  });

  it("does not serve expired entries", async () => {
    const { cache, store } = setup();
    await remember(cache, "t1", "What is the price of plan A?");
    for (const e of store.entries) e.expiresAt = new Date(Date.now() - 1);
    expect((await cache.lookup("t1", ask("How much is plan A?"))).kind).toBe("miss");
  });

  it("never stores an answer that used tools, was filtered or is empty", () => {
    expect(shareableAnswer(answer("fine"))).toBe(true);
    expect(shareableAnswer(answer("calling", "tool_calls"))).toBe(false);
    expect(shareableAnswer(answer("cut", "content_filter"))).toBe(false);
    expect(shareableAnswer(answer(""))).toBe(false);
    const withToolCalls = JSON.parse(answer("x")) as { choices: { message: Record<string, unknown> }[] };
    const first = withToolCalls.choices[0];
    if (first) first.message.tool_calls = [{ id: "1" }];
    expect(shareableAnswer(JSON.stringify(withToolCalls))).toBe(false);
    expect(shareableAnswer("not json")).toBe(false);
  });

  it("skips (never fails the request) when the store is down", async () => {
    const { cache, store } = setup();
    store.failing = true;
    expect(await cache.lookup("t1", ask("How much is plan A?"))).toEqual({
      kind: "skip",
      reason: "unavailable",
    });
  });

  it("searches small partitions exactly and large ones through HNSW", async () => {
    const { cache, store } = setup({ exactMaxRows: 1, sizeTtlMs: 0 });
    await remember(cache, "t1", "What is the price of plan A?");
    await cache.lookup("t1", ask("How much is plan A?"));
    await remember(cache, "t1", "Tell me a joke");
    await cache.lookup("t1", ask("Tell me a joke"));
    expect(store.searches).toEqual(["exact", "exact", "hnsw"]);
  });
});
