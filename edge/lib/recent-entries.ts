/** The bounds of a {@link RecentEntries}. */
export interface RecentEntriesLimits {
  /** How long an entry is served after it was put; 0 turns the tier off. */
  ttlMs: number;
  maxEntries: number;
  /** Total characters of the bodies held. */
  maxChars: number;
}

/**
 * The response cache's memory tier: entries this isolate read from or wrote to Redis in the last
 * `ttlMs`, served again without a Redis round trip. Bounded by entry count and total characters;
 * the oldest entry goes first. An entry can outlive its Redis copy (expiry, a refresh by another
 * isolate) by at most `ttlMs`. A `ttlMs` of 0 turns the tier off.
 */
export class RecentEntries {
  private readonly entries = new Map<string, { body: string; expiresAt: number }>();
  private chars = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxChars: number;

  constructor(limits: RecentEntriesLimits) {
    this.ttlMs = limits.ttlMs;
    this.maxEntries = limits.maxEntries;
    this.maxChars = limits.maxChars;
  }

  /** The entry's body if it was put less than `ttlMs` ago. */
  get(key: string, now = Date.now()): string | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry.body;
    this.remove(key, entry.body);
    return undefined;
  }

  put(key: string, body: string, now = Date.now()): void {
    if (this.ttlMs === 0 || body.length > this.maxChars) return;
    const previous = this.entries.get(key);
    if (previous !== undefined) this.remove(key, previous.body);
    this.entries.set(key, { body, expiresAt: now + this.ttlMs });
    this.chars += body.length;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.chars <= this.maxChars) break;
      this.remove(oldest, entry.body);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private remove(key: string, body: string): void {
    this.entries.delete(key);
    this.chars -= body.length;
  }
}
