import type { ScopeStats } from "./store.ts";

/** The size of one embedding version of a collection. */
export interface VersionStats {
  modelVersion: string;
  stats: ScopeStats;
}

interface Entry extends VersionStats {
  expiresAt: number;
}

/**
 * The size of each collection's active version (BM25's N and avgdl, the exact/HNSW choice), kept in the
 * process for a short time so the hot path skips the projection query. Entries belong to one model
 * version: the caller still reads the collection's settings on every query (the retriever, inside its
 * vector search) and only keeps a result computed from an entry whose version is the active one, so a
 * switch of versions is seen at once; chunk counts (and so BM25's N and avgdl) may lag by up to `ttlMs`.
 */
export class ScopeStatsCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  private static key(tenant: string, collection: string): string {
    return JSON.stringify([tenant, collection]);
  }

  /** The cached stats of the collection's `modelVersion`, or undefined when absent, expired or of another version. */
  get(tenant: string, collection: string, modelVersion: string): ScopeStats | undefined {
    const key = ScopeStatsCache.key(tenant, collection);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now() || entry.modelVersion !== modelVersion) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.stats;
  }

  /** Keeps the stats of a non-empty scope (an empty one is asked again, so the first chunks are seen at once). */
  set(tenant: string, collection: string, { modelVersion, stats }: VersionStats): void {
    if (this.ttlMs <= 0 || stats.chunks <= 0) return;
    const key = ScopeStatsCache.key(tenant, collection);
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { modelVersion, stats, expiresAt: this.now() + this.ttlMs });
  }

  /** The fresh entry of the collection whatever its version: what the hot path searches before the settings confirm it. */
  peek(tenant: string, collection: string): VersionStats | undefined {
    const entry = this.entries.get(ScopeStatsCache.key(tenant, collection));
    if (!entry || entry.expiresAt <= this.now()) return undefined;
    return { modelVersion: entry.modelVersion, stats: entry.stats };
  }
}
