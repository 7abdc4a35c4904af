import { DependencyError } from "../../shared/dependency-error.ts";

/**
 * Where the pool remembers the nonces of signed calls. Every worker of a region must share it, and it
 * must outlive a worker restart, or a captured call could be replayed once per worker and again after
 * a restart. `claim` resolves false for a nonce already seen; it throws a retryable DependencyError
 * when the store cannot answer (the pool then fails closed: 503, and the edge tries another region).
 */
export interface NonceStore {
  claim(nonce: string, ttlMs: number): Promise<boolean>;
  close(): void;
}

/** Expired entries removed per claim: the sweep's work per request is bounded. */
const sweepPerClaim = 64;

/**
 * A bounded in-process store, for tests and single-process tools only: it is neither shared across
 * workers nor kept across restarts. Full of live nonces, it refuses new ones (fails closed).
 */
export class MemoryNonceStore implements NonceStore {
  /** nonce → expiry (epoch ms). One TTL per store keeps insertion order equal to expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  async claim(nonce: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    this.sweep(now);
    const expires = this.seen.get(nonce);
    if (expires !== undefined && expires > now) return false;
    if (this.seen.size >= this.maxEntries) {
      throw new DependencyError("redis", true, "in-memory nonce store is full");
    }
    this.seen.delete(nonce);
    this.seen.set(nonce, now + ttlMs);
    return true;
  }

  close(): void {
    this.seen.clear();
  }

  private sweep(now: number): void {
    let removed = 0;
    for (const [nonce, expires] of this.seen) {
      if (expires > now || removed >= sweepPerClaim) return;
      this.seen.delete(nonce);
      removed++;
    }
  }
}
