/**
 * A small time-boxed set of (tenant, model) pairs, oldest dropped first when full. The edge keeps in
 * it what the pool said about a model (no endpoint serves `/v1/responses`), so later requests skip the
 * question; an entry expires so a registry change is seen within its lifetime.
 */
export class NativeMemo {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  private static keyOf(tenant: string, model: string): string {
    return `${tenant}\u0000${model}`;
  }

  /** Whether the pair was added less than `ttlMs` ago. */
  has(tenant: string, model: string, now = Date.now()): boolean {
    const key = NativeMemo.keyOf(tenant, model);
    const until = this.entries.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.entries.delete(key);
    return false;
  }

  /** Adds (or renews) the pair. */
  add(tenant: string, model: string, now = Date.now()): void {
    const key = NativeMemo.keyOf(tenant, model);
    this.entries.delete(key);
    this.entries.set(key, now + this.ttlMs);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
