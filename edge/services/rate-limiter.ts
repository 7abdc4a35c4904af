import type { Redis } from "@upstash/redis/cloudflare";
import { withDeadline } from "../lib/deadline.ts";

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the current window ends. */
  reset: number;
  /** False when Redis did not answer in time or failed: the request was let through (fail open). */
  enforced: boolean;
  /** Counter sync this request started, to finish after the response (hand it to `waitUntil`). */
  pending: Promise<unknown> | null;
}

export interface RateLimiterOptions {
  /** A check that has to ask Redis gives up after this long and lets the request through. */
  deadlineMs: number;
  /** Requests decided in the isolate are added to the shared counter at most this long afterwards. */
  syncMs: number;
}

const windowMs = 60_000;
/** A background sync waits longer than a request would: it holds no answer back. */
const syncDeadlineMs = 2_000;

/**
 * Atomic check-and-add on one window's counter. KEYS: this window, the previous window. ARGV: requests
 * already let through in an isolate (always added), requests asking now (added only if the sliding
 * count stays within the limit), the limit, the previous window's weight, the key's lifetime in ms.
 * Returns {requests granted, this window's count, previous window's count}.
 */
const checkAndAddScript = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local admitted = tonumber(ARGV[1])
local asking = tonumber(ARGV[2])
local granted = 0
if asking > 0 and previous * tonumber(ARGV[4]) + current + admitted + asking <= tonumber(ARGV[3]) then
  granted = asking
end
local add = admitted + granted
if add > 0 then
  current = redis.call('INCRBY', KEYS[1], add)
  if current == add then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
end
return {granted, current, previous}`;

type ScriptReply = [number, number, number];

interface KeyState {
  window: number;
  /** The shared counts as Redis last reported them. */
  current: number;
  previous: number;
  /** Let through here and not yet added to the shared counter (queued, or on their way). */
  unsynced: number;
  sync: Promise<void> | null;
  /** Refused requests are refused here, without Redis, until this time. */
  blockedUntil: number;
}

/** One check-and-add of {@link RateLimiter}: the key's window, what to add, and the limit to check. */
interface RedisCheck {
  keyId: string;
  window: number;
  /** Requests already let through in the isolate, added without being checked. */
  admitted: number;
  /** Requests asking now (1 on the request path, 0 for a sync). */
  asking: number;
  limit: number;
  /** The previous window's weight: how much of it still overlaps the sliding minute. */
  weight: number;
  deadlineMs: number;
}

/**
 * Per-key request limits over a sliding minute (two fixed windows, the previous one weighted by how
 * much of it still overlaps, as `@upstash/ratelimit`'s sliding window), shared through Redis.
 *
 * Far from its limit, a key's requests are decided in the isolate from the last shared count plus its
 * own, and added to Redis in one batch within `syncMs`; near the limit (within 10% of it, or 10
 * requests) every request asks Redis with an atomic check-and-add, so the limit is exact where it
 * matters. Several isolates can together exceed a limit only by what they let through locally during
 * one sync interval while far from it. The first request of a key in a window always asks Redis.
 * It fails open: when Redis is down or slower than `deadlineMs`, requests pass, because an outage of
 * the limiter must not become an outage of the gateway.
 */
export class RateLimiter {
  private readonly states = new Map<string, KeyState>();
  private readonly script;

  constructor(
    redis: Redis,
    private readonly options: RateLimiterOptions,
  ) {
    this.script = redis.createScript<ScriptReply>(checkAndAddScript);
  }

  async check(keyId: string, perMinute: number): Promise<RateDecision> {
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const reset = (window + 1) * windowMs;
    const weight = 1 - (now - window * windowMs) / windowMs;
    const state = this.stateFor(keyId, window);
    const used = state ? state.previous * weight + state.current + state.unsynced : Number.NaN;
    const decision = (
      allowed: boolean,
      count: number,
      { enforced = true, pending = null }: { enforced?: boolean; pending?: Promise<void> | null } = {},
    ): RateDecision => ({
      allowed,
      limit: perMinute,
      remaining: enforced ? Math.max(0, Math.floor(perMinute - count)) : perMinute,
      reset,
      enforced,
      pending,
    });

    if (state && now < state.blockedUntil) return decision(false, perMinute);
    const margin = Math.max(10, perMinute * 0.1);
    if (state && perMinute - (used + 1) > margin) {
      state.unsynced++;
      if (state.sync) return decision(true, used + 1);
      state.sync = this.syncLater(keyId, state, { limit: perMinute, weight });
      return decision(true, used + 1, { pending: state.sync });
    }

    const admitted = state?.unsynced ?? 0;
    if (state) state.unsynced = 0;
    const reply = await this.ask({
      keyId,
      window,
      admitted,
      asking: 1,
      limit: perMinute,
      weight,
      deadlineMs: this.options.deadlineMs,
    });
    if (!reply) {
      if (state) state.unsynced += admitted;
      return decision(true, 0, { enforced: false });
    }
    const [granted, current, previous] = reply;
    const known = this.remember(keyId, window, { current, previous });
    if (granted === 1) return decision(true, previous * weight + current + known.unsynced);
    known.blockedUntil = Math.min(reset, Date.now() + 1_000);
    return decision(false, perMinute);
  }

  /** The key's state in this window, or null when Redis has to be asked first. */
  private stateFor(keyId: string, window: number): KeyState | null {
    const state = this.states.get(keyId);
    return state && state.window === window ? state : null;
  }

  private remember(
    keyId: string,
    window: number,
    { current, previous }: Pick<KeyState, "current" | "previous">,
  ): KeyState {
    let state = this.stateFor(keyId, window);
    if (!state) {
      if (this.states.size >= 10_000) this.states.clear();
      state = { window, current, previous, unsynced: 0, sync: null, blockedUntil: 0 };
      this.states.set(keyId, state);
    }
    state.current = Math.max(state.current, current);
    state.previous = previous;
    return state;
  }

  /** Adds the requests let through here to the shared counter after `syncMs`. */
  private async syncLater(
    keyId: string,
    state: KeyState,
    { limit, weight }: { limit: number; weight: number },
  ): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.options.syncMs));
    const admitted = state.unsynced;
    state.unsynced = 0;
    try {
      const reply = await this.ask({
        keyId,
        window: state.window,
        admitted,
        asking: 0,
        limit,
        weight,
        deadlineMs: syncDeadlineMs,
      });
      if (reply) {
        state.current = Math.max(state.current, reply[1]);
        state.previous = reply[2];
      } else {
        // Not known to be counted: count them again with the next sync (over-counting, never under).
        state.unsynced += admitted;
      }
    } finally {
      state.sync = null;
    }
  }

  /** One check-and-add in Redis; null when it failed or missed the deadline. */
  private async ask({
    keyId,
    window,
    admitted,
    asking,
    limit,
    weight,
    deadlineMs,
  }: RedisCheck): Promise<ScriptReply | null> {
    const call = this.script
      .exec(
        [`tg:rl:${keyId}:${window}`, `tg:rl:${keyId}:${window - 1}`],
        [String(admitted), String(asking), String(limit), weight.toFixed(6), String(2 * windowMs)],
      )
      .then(
        (reply) =>
          (Array.isArray(reply) && reply.length === 3 ? reply.map(Number) : null) as ScriptReply | null,
        () => null,
      );
    return withDeadline(call, deadlineMs, null);
  }
}
