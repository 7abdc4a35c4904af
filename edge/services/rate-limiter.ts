import type { Redis } from "@upstash/redis/cloudflare";
import type { RateLimitMode } from "../../shared/schemas/spend.ts";
import { withDeadline } from "../lib/deadline.ts";

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the current window ends. */
  reset: number;
  /** False when Redis did not answer in time or failed: the request was let through (fail open). */
  enforced: boolean;
  /** Work this request started that should finish after the response (hand it to `waitUntil`). */
  pending: Promise<unknown> | null;
}

export interface RateLimiterOptions {
  /** A check that has to ask Redis gives up after this long and lets the request through. */
  deadlineMs: number;
  /**
   * The share of a key's limit an isolate reserves from Redis at once in `fast` mode (at least one
   * request); its requests are then decided in the isolate until the slice is used up. Default 0.05.
   */
  sliceFraction?: number;
}

const windowMs = 60_000;

/**
 * Atomic grant of a slice of one window's counter. KEYS: this window, the previous window. ARGV: the
 * requests asked for, the limit, the previous window's weight, the key's lifetime in ms. Grants as many
 * as fit under the limit (sliding count = previous × weight + current), possibly fewer than asked or
 * none, and adds them. Returns {granted, this window's count, previous window's count}.
 */
const grantScript = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local room = math.floor(tonumber(ARGV[2]) - previous * tonumber(ARGV[3]) - current)
local granted = math.min(tonumber(ARGV[1]), math.max(0, room))
if granted > 0 then
  current = redis.call('INCRBY', KEYS[1], granted)
  if current == granted then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
end
return {granted, current, previous}`;

type ScriptReply = [number, number, number];

interface KeyState {
  window: number;
  /** Requests granted by Redis to this isolate and not used yet. */
  slice: number;
  /** The sliding count as Redis last reported it (granted slices included). */
  shared: number;
  /** Requests waiting for the grant in flight. */
  waiting: number;
  /** The grant in flight; concurrent requests wait for it instead of asking again. */
  grant: Promise<ScriptReply | null> | null;
  /** Refused requests are refused here, without Redis, until this time. */
  blockedUntil: number;
}

/**
 * Per-key request limits over a sliding minute (two fixed windows, the previous one weighted by how
 * much of it still overlaps, as `@upstash/ratelimit`'s sliding window), shared through Redis.
 *
 * A request is let through only against a grant Redis made atomically under the limit: an isolate asks
 * for a slice (`fast` mode: 5% of the limit, or as many requests as are waiting if more; `exact` mode:
 * exactly the waiting requests) and decides locally until the slice is used up. Concurrent requests of
 * a key wait for the one grant in flight instead of racing it. So while Redis answers, no number of
 * isolates or concurrent requests lets more than the limit through in a sliding minute (the grants are
 * counted before use); an isolate may leave up to one slice minus one unused (under-admission) when the
 * window turns. It fails open: when Redis is down or slower than `deadlineMs`, requests pass, because an
 * outage of the limiter must not become an outage of the gateway.
 */
export class RateLimiter {
  private readonly states = new Map<string, KeyState>();
  private readonly script;
  private readonly sliceFraction: number;

  constructor(
    redis: Redis,
    private readonly options: RateLimiterOptions,
  ) {
    this.script = redis.createScript<ScriptReply>(grantScript);
    this.sliceFraction = options.sliceFraction ?? 0.05;
  }

  async check(keyId: string, perMinute: number, mode: RateLimitMode = "fast"): Promise<RateDecision> {
    const window = Math.floor(Date.now() / windowMs);
    const reset = (window + 1) * windowMs;
    const decision = (allowed: boolean, remaining: number, enforced = true): RateDecision => ({
      allowed,
      limit: perMinute,
      remaining: enforced ? Math.max(0, Math.floor(remaining)) : perMinute,
      reset,
      enforced,
      pending: null,
    });
    const state = this.stateFor(keyId, window);
    for (;;) {
      if (Date.now() < state.blockedUntil) return decision(false, 0);
      if (state.slice > 0) {
        state.slice--;
        return decision(true, perMinute - state.shared + state.slice);
      }
      if (state.grant) {
        state.waiting++;
        const reply = await state.grant;
        state.waiting--;
        if (!reply) return decision(true, 0, false);
        continue;
      }
      const reply = await this.askForSlice(keyId, state, { perMinute, mode, reset });
      if (!reply) return decision(true, 0, false);
      if (reply[0] === 0) {
        state.blockedUntil = Math.min(reset, Date.now() + 1_000);
        return decision(false, 0);
      }
    }
  }

  /** Asks Redis for a slice for this request and the ones waiting; adds what it grants to the state. */
  private async askForSlice(
    keyId: string,
    state: KeyState,
    { perMinute, mode, reset }: { perMinute: number; mode: RateLimitMode; reset: number },
  ): Promise<ScriptReply | null> {
    const now = Date.now();
    const weight = Math.max(0, (reset - now) / windowMs);
    const grant = (async () => {
      // Requests arriving in this tick join before the slice size is decided.
      await Promise.resolve();
      const wanted = 1 + state.waiting;
      const slice = mode === "exact" ? wanted : Math.max(wanted, Math.floor(perMinute * this.sliceFraction));
      const reply = await this.ask(keyId, state.window, { slice, limit: perMinute, weight });
      if (reply) {
        state.slice += reply[0];
        state.shared = reply[2] * weight + reply[1];
      }
      return reply;
    })();
    state.grant = grant;
    try {
      return await grant;
    } finally {
      state.grant = null;
    }
  }

  /** The key's state in this window (a new window starts empty). */
  private stateFor(keyId: string, window: number): KeyState {
    const known = this.states.get(keyId);
    if (known && known.window === window) return known;
    if (this.states.size >= 10_000) this.states.clear();
    const state: KeyState = { window, slice: 0, shared: 0, waiting: 0, grant: null, blockedUntil: 0 };
    this.states.set(keyId, state);
    return state;
  }

  /** One grant in Redis; null when it failed or missed the deadline. */
  private async ask(
    keyId: string,
    window: number,
    { slice, limit, weight }: { slice: number; limit: number; weight: number },
  ): Promise<ScriptReply | null> {
    const call = this.script
      .exec(
        [`tg:rl:${keyId}:${window}`, `tg:rl:${keyId}:${window - 1}`],
        [String(slice), String(limit), weight.toFixed(6), String(2 * windowMs)],
      )
      .then(
        (reply) =>
          (Array.isArray(reply) && reply.length === 3 ? reply.map(Number) : null) as ScriptReply | null,
        () => null,
      );
    return withDeadline(call, this.options.deadlineMs, null);
  }
}
