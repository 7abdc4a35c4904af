import { describe, expect, it } from "vitest";
import { fuseRankings, relevanceFromDistance, rrfK } from "../../../workers/retrieval/fusion.ts";
import type { ChunkHit } from "../../../workers/retrieval/store.ts";

const hit = (id: string, distance: number): ChunkHit => ({
  chunk_id: id,
  document_id: `doc-${id}`,
  source: `doc-${id}.md`,
  text: id,
  metadata: {},
  distance,
});

describe("relevance", () => {
  it("is the cosine similarity clipped to [0, 1]", () => {
    expect(relevanceFromDistance(0)).toBe(1);
    expect(relevanceFromDistance(0.4)).toBeCloseTo(0.6);
    expect(relevanceFromDistance(1.3)).toBe(0);
    expect(relevanceFromDistance(-0.1)).toBe(1);
    expect(relevanceFromDistance(Number.NaN)).toBe(0);
  });
});

describe("reciprocal rank fusion", () => {
  it("sums 1/(k + rank) over both lists, so a chunk in both beats one at the top of a single list", () => {
    const fused = fuseRankings([hit("a", 0.1), hit("b", 0.2)], [hit("b", 0.2), hit("c", 0.5)]);
    expect(fused.map((c) => c.chunk_id)).toEqual(["b", "a", "c"]);
    expect(fused[0]?.fused).toBeCloseTo(1 / (rrfK + 2) + 1 / (rrfK + 1));
    expect(fused[0]).toMatchObject({ vector_rank: 2, keyword_rank: 1, relevance: 0.8 });
    expect(fused[2]).toMatchObject({ vector_rank: null, keyword_rank: 2 });
  });

  it("counts a chunk listed twice in one list once, at its best rank", () => {
    const fused = fuseRankings([hit("a", 0.1), hit("a", 0.1), hit("b", 0.3)], []);
    expect(fused.map((c) => [c.chunk_id, c.vector_rank])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
  });

  it("returns nothing for two empty lists", () => {
    expect(fuseRankings([], [])).toEqual([]);
  });
});
