import type { ChunkHit } from "./store.ts";

/** Reciprocal rank fusion constant (Cormack et al. 2009): damps the weight of the very first ranks. */
export const rrfK = 60;

/** A retrieved chunk after fusion. `relevance` in [0, 1] decides abstention; `fused` decides order. */
export interface ScoredChunk {
  chunk_id: string;
  document_id: string;
  source: string;
  text: string;
  metadata: Record<string, string>;
  relevance: number;
  fused: number;
  vector_rank: number | null;
  keyword_rank: number | null;
}

/**
 * Relevance of a chunk: its cosine similarity to the question, clipped to [0, 1]
 * (relevance = clamp(1 - cosineDistance, 0, 1)). Negative similarity means unrelated, so it maps to 0.
 */
export function relevanceFromDistance(distance: number): number {
  if (!Number.isFinite(distance)) return 0;
  return Math.min(1, Math.max(0, 1 - distance));
}

/**
 * Fuses the vector and keyword rankings with RRF: fused = Σ 1 / (rrfK + rank), rank from 1, over the
 * lists a chunk appears in. Duplicate chunk ids within a list (a re-inserted batch) count once, at their
 * best rank. Ties keep the higher relevance first, then the chunk id, so the order is deterministic.
 */
export function fuseRankings(
  vectorHits: readonly ChunkHit[],
  keywordHits: readonly ChunkHit[],
): ScoredChunk[] {
  const byId = new Map<string, ScoredChunk>();
  const add = (hits: readonly ChunkHit[], side: "vector_rank" | "keyword_rank") => {
    let rank = 0;
    for (const hit of hits) {
      const existing = byId.get(hit.chunk_id);
      if (existing?.[side] != null) continue;
      rank++;
      const chunk: ScoredChunk = existing ?? {
        chunk_id: hit.chunk_id,
        document_id: hit.document_id,
        source: hit.source,
        text: hit.text,
        metadata: hit.metadata,
        relevance: relevanceFromDistance(hit.distance),
        fused: 0,
        vector_rank: null,
        keyword_rank: null,
      };
      chunk[side] = rank;
      chunk.fused += 1 / (rrfK + rank);
      byId.set(hit.chunk_id, chunk);
    }
  };
  add(vectorHits, "vector_rank");
  add(keywordHits, "keyword_rank");
  return [...byId.values()].sort(
    (a, b) => b.fused - a.fused || b.relevance - a.relevance || a.chunk_id.localeCompare(b.chunk_id),
  );
}
