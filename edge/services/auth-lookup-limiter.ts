import type { Redis } from "@upstash/redis/cloudflare";
import { withDeadline } from "../lib/deadline.ts";

/** Options of {@link AuthLookupLimiter}. */
export interface AuthLookupLimiterOptions {
  /** Key lookups past the caches (each a pool call and a Postgres query) one client IP may cause per second. */
  perSecond: number;
  /** The shared count in Redis is skipped past this; the isolate's own count still applies. */
  deadlineMs: number;
}

interface Window {
  second: number;
  count: number;
}

const maxTrackedIps = 10_000;

/**
 * A per-client-IP limit in front of authentication: it bounds how many key lookups that miss the key
 * caches one address can cause per second, so a flood of random tokens cannot turn into a flood of
 * Postgres queries. Lookups answered from a cache are not counted. Each isolate counts its own lookups
 * (always enforced, no I/O) and the shared one-second window in Redis (`INCR`, expiring), which bounds
 * the sum over isolates while Redis answers within the deadline.
 */
export class AuthLookupLimiter {
  private readonly local = new Map<string, Window>();

  constructor(
    private readonly redis: Redis,
    private readonly options: AuthLookupLimiterOptions,
  ) {}

  /** Counts one lookup for `ip`; false when the address is over its limit for this second. */
  async allow(ip: string, now = Date.now()): Promise<boolean> {
    const second = Math.floor(now / 1000);
    const window = this.local.get(ip);
    if (window && window.second === second) {
      if (window.count >= this.options.perSecond) return false;
      window.count++;
    } else {
      if (this.local.size >= maxTrackedIps) this.local.clear();
      this.local.set(ip, { second, count: 1 });
    }
    const shared = await withDeadline(this.sharedCount(ip, second), this.options.deadlineMs, 0);
    return shared <= this.options.perSecond;
  }

  private async sharedCount(ip: string, second: number): Promise<number> {
    const key = `tg:authip:${ip}:${second}`;
    try {
      const [count] = await this.redis.pipeline().incr(key).expire(key, 2).exec<[number, number]>();
      return count;
    } catch {
      return 0;
    }
  }
}
