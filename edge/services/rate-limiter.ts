import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the window resets. */
  reset: number;
  /** False when Redis did not answer in time or failed: the request was let through (fail open). */
  enforced: boolean;
  /** Analytics/sync work the library wants finished after the response. */
  pending: Promise<unknown>;
}

/**
 * Per-key request limits through `@upstash/ratelimit` (sliding window of one minute). It fails open:
 * when Redis is down or slower than `deadlineMs`, requests pass, because an outage of the limiter must
 * not become an outage of the gateway. The isolate's ephemeral cache still blocks keys it has seen
 * exceed their limit.
 */
export class RateLimiter {
  private readonly limiters = new Map<number, Ratelimit>();
  private readonly blocked = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly deadlineMs: number,
  ) {}

  async check(keyId: string, perMinute: number): Promise<RateDecision> {
    try {
      const result = await this.limiterFor(perMinute).limit(keyId);
      const enforced = result.reason !== "timeout";
      return {
        allowed: result.success,
        limit: enforced ? result.limit : perMinute,
        remaining: enforced ? result.remaining : perMinute,
        reset: result.reset,
        enforced,
        pending: result.pending,
      };
    } catch {
      return {
        allowed: true,
        limit: perMinute,
        remaining: perMinute,
        reset: Date.now() + 60_000,
        enforced: false,
        pending: Promise.resolve(),
      };
    }
  }

  private limiterFor(perMinute: number): Ratelimit {
    let limiter = this.limiters.get(perMinute);
    if (!limiter) {
      limiter = new Ratelimit({
        redis: this.redis,
        limiter: Ratelimit.slidingWindow(perMinute, "60 s"),
        prefix: `tg:rl:${perMinute}`,
        timeout: this.deadlineMs,
        analytics: false,
        ephemeralCache: this.blocked,
      });
      this.limiters.set(perMinute, limiter);
    }
    return limiter;
  }
}
