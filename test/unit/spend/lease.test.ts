import type { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";
import { SpendGuard } from "../../../edge/services/spend-guard.ts";
import { leaseScript } from "../../../edge/services/spend-lease.ts";
import { budgetCounterKey, periodOf } from "../../../edge/services/spend-plan.ts";
import type { VerifiedKey } from "../../../shared/schemas/keys.ts";

/**
 * An in-memory Redis that runs the guard's two scripts with the same semantics as their Lua (one at a
 * time, like Redis), counting the calls of each.
 */
class ScriptRedis {
  readonly values = new Map<string, number>();
  readonly calls = { lease: 0, settle: 0 };

  createScript<T>(script: string): { exec(keys: string[], args: string[]): Promise<T> } {
    const run = script === leaseScript ? this.lease.bind(this) : this.settle.bind(this);
    return {
      exec: async (keys, args) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return run(keys, args.map(Number)) as T;
      },
    };
  }

  private add(key: string, by: number): number {
    const value = (this.values.get(key) ?? 0) + by;
    this.values.set(key, value);
    return value;
  }

  private lease(keys: string[], argv: number[]): number[] {
    this.calls.lease++;
    const arg = (i: number, k: number) => argv[7 * i + k] as number;
    keys.forEach((key, i) => {
      if (arg(i, 5) !== 0) this.add(key, arg(i, 5));
    });
    const rooms: number[] = [];
    let exact = false;
    for (const [i, key] of keys.entries()) {
      const [amount, hard] = [arg(i, 0), arg(i, 1)];
      const value = this.values.get(key) ?? 0;
      if (hard >= 0 && amount > hard - value) return [i + 1, value];
      const room = arg(i, 6) - value;
      if (room - amount < arg(i, 4)) exact = true;
      rooms.push(room);
    }
    const out = [0];
    keys.forEach((key, i) => {
      const slice = Math.min(arg(i, 3), Math.floor((rooms[i] as number) / 4));
      const grant = exact ? arg(i, 0) : Math.max(arg(i, 0), slice);
      out.push(this.add(key, grant), grant);
    });
    return out;
  }

  private settle(keys: string[], argv: number[]): number[] {
    this.calls.settle++;
    return keys.map((key, i) => this.add(key, argv[i] as number));
  }
}

const tenant = "t-lease";
const keyWith = (limit: number, mode: "hard" | "soft" = "hard"): VerifiedKey => ({
  keyId: "key_lease",
  tenantId: tenant,
  status: "active",
  allowedModels: null,
  rateLimitPerMinute: null,
  cacheTtlSeconds: null,
  budgets: {
    limits: [{ id: "b", scope: "key", metric: "tokens", period: "day", limit, mode }],
    priceCeiling: { input: 1, output: 1, cached: 1 },
  },
});
const counterKey = budgetCounterKey(
  { tenantId: tenant, keyId: "key_lease" },
  { scope: "key", metric: "tokens", period: "day" },
  periodOf("day", Date.now()).start,
);
// Each request reserves 150 tokens.
const bound = { promptTokens: 100, completionTokens: 50 };

function guardOn(redis: ScriptRedis, lease: { ttlMs?: number } = {}): SpendGuard {
  return new SpendGuard(redis as unknown as Redis, {
    deadlineMs: 1_000,
    onSoftPassed: async () => {},
    flushMs: 5,
    lease,
  });
}

describe("SpendGuard leases", () => {
  it("takes one lease for many requests while far from the limit", async () => {
    const redis = new ScriptRedis();
    const guard = guardOn(redis);
    // 5% of 100,000 = 5,000 tokens leased: the first request and 32 more (33 × 150 = 4,950).
    const holds = await Promise.all(Array.from({ length: 33 }, () => guard.hold(keyWith(100_000), bound)));
    expect(holds).toHaveLength(33);
    expect(redis.calls.lease).toBe(1);
    expect(redis.values.get(counterKey)).toBe(5_000);
    await guard.hold(keyWith(100_000), bound);
    expect(redis.calls.lease).toBe(2);
  });

  it("reserves every request exactly in Redis near the limit, and refuses past it", async () => {
    const redis = new ScriptRedis();
    redis.values.set(counterKey, 95_000);
    const guard = guardOn(redis);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, () => guard.hold(keyWith(100_000), bound)),
    );
    const held = outcomes.filter((o) => o.status === "fulfilled");
    // 5,000 left: 33 reservations of 150 fit, not one more.
    expect(held).toHaveLength(33);
    expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(7);
    expect(redis.values.get(counterKey)).toBe(95_000 + 33 * 150);
    expect(redis.calls.lease).toBe(40);
  });

  it("reserves exactly near a soft limit too, so leases do not pass it before the spend does", async () => {
    const redis = new ScriptRedis();
    redis.values.set(counterKey, 95_000);
    const guard = guardOn(redis);
    await Promise.all(Array.from({ length: 5 }, () => guard.hold(keyWith(100_000, "soft"), bound)));
    expect(redis.calls.lease).toBe(5);
    expect(redis.values.get(counterKey)).toBe(95_000 + 5 * 150);
  });

  it("never admits past the limit from several isolates, whatever they lease", async () => {
    const redis = new ScriptRedis();
    const guards = [1, 2, 3, 4].map(() => guardOn(redis));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 400 }, (_, i) => (guards[i % 4] as SpendGuard).hold(keyWith(30_000), bound)),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled").length).toBeLessThanOrEqual(200);
    expect(redis.values.get(counterKey)).toBeLessThanOrEqual(30_000);
  });

  it("writes the settlements of many requests in one script", async () => {
    const redis = new ScriptRedis();
    const guard = guardOn(redis);
    const holds = await Promise.all(Array.from({ length: 20 }, () => guard.hold(keyWith(100_000), bound)));
    // Each answer cost 100 tokens of its 150 reserved.
    const settled = holds.map((h) => h.settle({ usd: 0, tokens: 100 }));
    expect(redis.calls.settle).toBe(0);
    await Promise.race([...settled.slice(0, 1), new Promise((r) => setTimeout(r, 200))]);
    expect(redis.calls.settle).toBe(1);
    expect(redis.values.get(counterKey)).toBe(5_000 - 20 * 50);
  });

  it("gives an expired lease back, leaving exactly what the answers cost", async () => {
    const redis = new ScriptRedis();
    const guard = guardOn(redis, { ttlMs: 30 });
    const holds = await Promise.all(Array.from({ length: 10 }, () => guard.hold(keyWith(100_000), bound)));
    expect(redis.values.get(counterKey)).toBe(5_000);
    await Promise.all(holds.map((h, i) => (i < 9 ? h.settle({ usd: 0, tokens: 120 }) : h.release())));
    expect(redis.values.get(counterKey)).toBe(9 * 120);
    // A new request after the return leases again.
    await guard.hold(keyWith(100_000), bound);
    expect(redis.calls.lease).toBe(2);
  });

  it("hands the lease left over back with the next lease call", async () => {
    const redis = new ScriptRedis();
    const guard = guardOn(redis, { ttlMs: 30 });
    await guard.hold(keyWith(100_000), bound);
    await new Promise((r) => setTimeout(r, 40));
    // Expired: the next request gives back 4,850 and leases 5,000 again, in the same call.
    await guard.hold(keyWith(100_000), bound);
    expect(redis.calls.lease).toBe(2);
    expect(redis.values.get(counterKey)).toBe(150 + 5_000);
  });

  it("lets the requests waiting for a lease through unmetered with it when Redis does not answer", async () => {
    let calls = 0;
    const stuck = {
      createScript: () => ({
        exec: () => {
          calls++;
          return new Promise(() => {});
        },
      }),
    } as unknown as Redis;
    const guard = new SpendGuard(stuck, { deadlineMs: 50, onSoftPassed: async () => {} });
    const holds = await Promise.all(Array.from({ length: 20 }, () => guard.hold(keyWith(100_000), bound)));
    expect(holds.every((h) => Object.keys(h.headers).length === 0)).toBe(true);
    // One call timed out for all of them, not one per waiting request.
    expect(calls).toBe(1);
  });
});
