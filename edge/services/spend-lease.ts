import type { Counter } from "./spend-plan.ts";

/**
 * Atomic flush-then-lease over every counter of a request. KEYS: the counters. ARGV, seven per counter:
 * the request's amount, the hard limit (-1: none), the lifetime in ms (0: none), the slice wanted for
 * the isolate's lease, the room below which the counter is exact (no lease), an adjustment applied
 * first (settled deltas minus lease given back), and the limit (hard or soft) that room is measured
 * against. Refuses (after the adjustments, adding nothing more) when the request would pass a hard
 * limit: returns {its 1-based index, its value}. Else reserves on every counter the request's amount,
 * or, while on every counter the room left after it is at least the exact threshold, a lease of
 * min(slice, room / 4) but at least the amount; returns {0, value after, granted, …}.
 */
export const leaseScript = `
local n = #KEYS
for i = 1, n do
  if tonumber(ARGV[7 * i - 1]) ~= 0 then redis.call('INCRBY', KEYS[i], ARGV[7 * i - 1]) end
end
local rooms = {}
local exact = false
for i = 1, n do
  local amount = tonumber(ARGV[7 * i - 6])
  local hard = tonumber(ARGV[7 * i - 5])
  local value = tonumber(redis.call('GET', KEYS[i]) or '0')
  if hard >= 0 and amount > hard - value then return {i, value} end
  local room = tonumber(ARGV[7 * i]) - value
  if room - amount < tonumber(ARGV[7 * i - 2]) then exact = true end
  rooms[i] = room
end
local grants = {}
for i = 1, n do
  local amount = tonumber(ARGV[7 * i - 6])
  local grant = amount
  if not exact then
    grant = math.max(amount, math.min(tonumber(ARGV[7 * i - 3]), math.floor(rooms[i] / 4)))
  end
  grants[i] = string.format('%.0f', grant)
end
local out = {0}
for i = 1, n do
  out[2 * i] = redis.call('INCRBY', KEYS[i], grants[i])
  out[2 * i + 1] = tonumber(grants[i])
  local ttl = tonumber(ARGV[7 * i - 4])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return out`;

/** Tuning of the isolate's leases. */
export interface LeaseTuning {
  /** Share of a counter's limit leased at once (0: every request is reserved exactly in Redis). */
  fraction: number;
  /** Below this share of the limit left (or four worst cases, if more), requests are reserved exactly. */
  exactFraction: number;
  /** A lease not used up within this long is given back to Redis. */
  ttlMs: number;
}

/** What this isolate holds on one Redis counter. */
export interface LeaseState {
  /** Reserved in Redis for this isolate and not yet admitted against. */
  available: number;
  /** When the lease is given back (epoch ms). */
  expiresAt: number;
  /** Settled deltas (actual minus reserved) not yet written to Redis. */
  delta: number;
  /** The counter's value as Redis last reported it. */
  shared: number;
  /** The counter, for soft alerts after a flush. */
  counter: Counter;
  /** Whose counter it is, for soft alerts. */
  owner: CounterOwner;
}

/** The tenant and key a counter belongs to. */
export interface CounterOwner {
  tenantId: string;
  keyId: string;
}

/** Deltas to write in one flush, with what each belongs to. */
export interface Drained {
  keys: string[];
  deltas: number[];
  counters: Counter[];
  owners: CounterOwner[];
}

/**
 * The isolate's leases and unwritten settlements, per Redis counter key. Pure bookkeeping: the guard
 * does the Redis calls.
 */
export class LeaseBook {
  private readonly states = new Map<string, LeaseState>();

  constructor(private readonly tuning: LeaseTuning) {}

  /** Admits a request against the local leases when every counter has room; true when admitted. */
  take(counters: Counter[], now: number): boolean {
    const states = counters.map((c) => this.states.get(c.key));
    const fits = states.every((s, i) => s && s.expiresAt > now && s.available >= (counters[i]?.amount ?? 0));
    if (!fits) return false;
    states.forEach((s, i) => {
      if (s) s.available -= counters[i]?.amount ?? 0;
    });
    return true;
  }

  /** The script's seven arguments per counter; hands the pending deltas and leftovers over to the call. */
  leaseArgs(counters: Counter[]): string[] {
    return counters.flatMap((c) => {
      const state = this.states.get(c.key);
      const adjust = state ? state.delta - state.available : 0;
      if (state) {
        state.delta = 0;
        state.available = 0;
      }
      const limit = rawLimit(c);
      const slice = Math.floor(limit * this.tuning.fraction);
      const exact =
        this.tuning.fraction > 0 ? Math.max(limit * this.tuning.exactFraction, 4 * c.amount) : Infinity;
      return [
        String(c.amount),
        String(c.hardLimit ?? -1),
        String(c.ttlMs),
        String(slice),
        Number.isFinite(exact) ? String(Math.ceil(exact)) : "9007199254740991",
        String(adjust),
        String(limit),
      ];
    });
  }

  /** Records a grant: the part beyond the request's amount becomes the local lease. True when any lease was granted. */
  granted(counters: Counter[], owner: CounterOwner, reply: { values: number[]; now: number }): boolean {
    let leased = false;
    const { values, now } = reply;
    counters.forEach((c, i) => {
      const grant = values[2 * i + 1] ?? c.amount;
      const state = this.stateOf(c, owner);
      state.shared = values[2 * i] ?? 0;
      if (grant > c.amount) {
        state.available += grant - c.amount;
        state.expiresAt = now + this.tuning.ttlMs;
        leased = true;
      }
    });
    return leased;
  }

  /** Adds a settled delta (actual minus reserved) to write with the next flush. */
  settle(counter: Counter, owner: CounterOwner, delta: number): void {
    this.stateOf(counter, owner).delta += delta;
  }

  /** Takes the deltas to write and the expired leases to give back (forgetting idle states). */
  drain(now: number): Drained {
    const out: Drained = { keys: [], deltas: [], counters: [], owners: [] };
    for (const [key, state] of this.states) {
      const expired = state.expiresAt <= now;
      const delta = state.delta - (expired ? state.available : 0);
      state.delta = 0;
      if (expired) state.available = 0;
      if (delta !== 0) {
        out.keys.push(key);
        out.deltas.push(delta);
        out.counters.push(state.counter);
        out.owners.push(state.owner);
      }
      if (expired) this.states.delete(key);
    }
    return out;
  }

  /** The counter's local state, for headers and tests. */
  get(key: string): LeaseState | undefined {
    return this.states.get(key);
  }

  private stateOf(counter: Counter, owner: CounterOwner): LeaseState {
    let state = this.states.get(counter.key);
    if (!state) {
      if (this.states.size >= 10_000) this.states.clear();
      state = { available: 0, expiresAt: 0, delta: 0, shared: 0, counter, owner };
      this.states.set(counter.key, state);
    }
    state.counter = counter;
    state.owner = owner;
    return state;
  }
}

/** The counter's limit in raw units (nano-USD or tokens), hard or soft. */
function rawLimit(counter: Counter): number {
  if (counter.hardLimit !== null) return counter.hardLimit;
  const limit = counter.budget?.limit ?? 0;
  return Math.floor(counter.metric === "usd" ? limit * 1_000_000_000 : limit);
}
