import { beforeEach, describe, expect, it } from "vitest";
import { RateLimiter } from "../../../edge/services/rate-limiter.ts";
import { SpendGuard } from "../../../edge/services/spend-guard.ts";
import { budgetCounterKey, periodOf } from "../../../edge/services/spend-plan.ts";
import type { VerifiedKey } from "../../../shared/schemas/keys.ts";
import { edgeRedis } from "./harness.ts";

const options = { deadlineMs: 2_000 };

// A test's requests must fall in one minute window: start at least 10 s before it ends.
beforeEach(async () => {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 10_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}, 15_000);

async function burst(limiters: RateLimiter[], keyId: string, limit: number, total: number, exact = false) {
  const decisions = await Promise.all(
    Array.from({ length: total }, (_, i) =>
      (limiters[i % limiters.length] as RateLimiter).check(keyId, limit, exact ? "exact" : "fast"),
    ),
  );
  expect(decisions.every((d) => d.enforced)).toBe(true);
  return decisions.filter((d) => d.allowed).length;
}

describe("request limits under bursts", () => {
  it("one isolate: one request, then 200 at once against 50 a minute lets 50 through in all", async () => {
    const limiter = new RateLimiter(edgeRedis, options);
    const keyId = `burst-one-${crypto.randomUUID()}`;
    expect((await limiter.check(keyId, 50)).allowed).toBe(true);
    const allowed = await burst([limiter], keyId, 50, 200);
    expect(1 + allowed).toBe(50);
  });

  it("four isolates at once stay within the documented bound (10% or 5 over, whichever is larger)", async () => {
    const limiters = Array.from({ length: 4 }, () => new RateLimiter(edgeRedis, options));
    const keyId = `burst-four-${crypto.randomUUID()}`;
    for (const limiter of limiters) expect((await limiter.check(keyId, 50)).allowed).toBe(true);
    const allowed = 4 + (await burst(limiters, keyId, 50, 200));
    expect(allowed).toBeLessThanOrEqual(55);
    expect(allowed).toBeGreaterThanOrEqual(50 - 4 * 1);
  });

  it("a large limit in fast mode: 2 isolates × 1000 requests against 600 a minute", async () => {
    const limiters = [new RateLimiter(edgeRedis, options), new RateLimiter(edgeRedis, options)];
    const keyId = `burst-large-${crypto.randomUUID()}`;
    const allowed = await burst(limiters, keyId, 600, 2_000);
    expect(allowed).toBeLessThanOrEqual(660);
    // Under-admission is at most one unused slice (5% of 600 = 30) per isolate, less one.
    expect(allowed).toBeGreaterThanOrEqual(600 - 2 * 29);
  });

  it("exact mode: a small limit is never passed, whatever the concurrency", async () => {
    const limiters = [new RateLimiter(edgeRedis, options), new RateLimiter(edgeRedis, options)];
    const keyId = `burst-exact-${crypto.randomUUID()}`;
    expect(await burst(limiters, keyId, 5, 200, true)).toBe(5);
  });
});

describe("budget reservations under bursts (the SpendGuard, on the stack's Redis)", () => {
  const tenant = `burst-budget-${Date.now().toString(36)}`;
  const keyOf = (keyId: string, limit: number): VerifiedKey => ({
    keyId,
    tenantId: tenant,
    status: "active",
    allowedModels: null,
    rateLimitPerMinute: null,
    cacheTtlSeconds: null,
    budgets: {
      limits: [{ id: `b-${keyId}`, scope: "key", metric: "usd", period: "day", limit, mode: "hard" }],
      priceCeiling: { input: 2, output: 10, cached: 1 },
    },
  });

  it("200 concurrent reservations settle to at most the budget when answers cost no more than reserved", async () => {
    const guards = [1, 2, 3, 4].map(
      () => new SpendGuard(edgeRedis, { deadlineMs: 2_000, onSoftPassed: async () => {} }),
    );
    const keyId = `guard-${crypto.randomUUID()}`;
    // Each reservation: (100 × 2 + 50 × 10) / 1e6 = $0.0007; the budget holds 10 of them.
    const key = keyOf(keyId, 0.007);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        (guards[i % 4] as SpendGuard).hold(key, { promptTokens: 100, completionTokens: 50 }),
      ),
    );
    const held = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    const refused = outcomes.filter((o) => o.status === "rejected");
    expect(held).toHaveLength(10);
    expect(refused.every((o) => (o.reason as { code?: string }).code === "BUDGET_EXCEEDED")).toBe(true);
    // Real costs between 20% and 100% of the reservation.
    await Promise.all(held.map((h, i) => h.settle({ usd: 0.0007 * (0.2 + (0.8 * i) / 9), tokens: 100 })));
    const counterKey = budgetCounterKey(
      { tenantId: tenant, keyId },
      { scope: "key", metric: "usd", period: "day" },
      periodOf("day", Date.now()).start,
    );
    const spentNano = Number(await edgeRedis.get<string>(counterKey));
    expect(spentNano).toBeLessThanOrEqual(0.007 * 1e9);
    expect(spentNano).toBeGreaterThan(0);
  });

  it("overshoots by no more than the answers' excess over their reservations (no max_tokens)", async () => {
    const guard = new SpendGuard(edgeRedis, { deadlineMs: 2_000, onSoftPassed: async () => {} });
    const keyId = `guard-excess-${crypto.randomUUID()}`;
    const key = keyOf(keyId, 0.007);
    const held = (
      await Promise.allSettled(
        Array.from({ length: 200 }, () => guard.hold(key, { promptTokens: 100, completionTokens: 50 })),
      )
    ).flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    expect(held).toHaveLength(10);
    // Each answer ran 50% past its reservation (a longer completion than the default cap).
    await Promise.all(held.map((h) => h.settle({ usd: 0.0007 * 1.5, tokens: 100 })));
    const counterKey = budgetCounterKey(
      { tenantId: tenant, keyId },
      { scope: "key", metric: "usd", period: "day" },
      periodOf("day", Date.now()).start,
    );
    const spent = Number(await edgeRedis.get<string>(counterKey)) / 1e9;
    expect(spent).toBeCloseTo(0.007 * 1.5, 9);
    // Once spent, the next request is refused.
    await expect(guard.hold(key, { promptTokens: 1, completionTokens: 1 })).rejects.toMatchObject({
      code: "BUDGET_EXCEEDED",
    });
  });
  it("leases slices to isolates far from the limit, never past it, and gives unused slices back", async () => {
    let scriptCalls = 0;
    const counting = {
      createScript: (script: string) => {
        const inner = edgeRedis.createScript(script);
        return {
          exec: (keys: string[], args: string[]) => {
            scriptCalls++;
            return inner.exec(keys, args);
          },
        };
      },
    } as unknown as typeof edgeRedis;
    const guards = [1, 2, 3, 4].map(
      () =>
        new SpendGuard(counting, {
          deadlineMs: 2_000,
          onSoftPassed: async () => {},
          lease: { ttlMs: 300 },
          flushMs: 20,
        }),
    );
    const keyId = `guard-lease-${crypto.randomUUID()}`;
    // Room for 1,000 reservations of $0.0007; 1,200 arrive at once on 4 isolates.
    const key = keyOf(keyId, 0.7);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 1_200 }, (_, i) =>
        (guards[i % 4] as SpendGuard).hold(key, { promptTokens: 100, completionTokens: 50 }),
      ),
    );
    const held = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    const counterKey = budgetCounterKey(
      { tenantId: tenant, keyId },
      { scope: "key", metric: "usd", period: "day" },
      periodOf("day", Date.now()).start,
    );
    expect(held.length).toBeLessThanOrEqual(1_000);
    expect(held.length).toBeGreaterThan(900);
    expect(Number(await edgeRedis.get<string>(counterKey))).toBeLessThanOrEqual(0.7 * 1e9);
    // Far fewer Redis scripts than requests: slices were admitted against locally.
    expect(scriptCalls).toBeLessThan(600);
    // Every answer cost 60% of its reservation; once leases expire the counter is exactly the cost.
    await Promise.all(held.map((h) => h.settle({ usd: 0.0007 * 0.6, tokens: 100 })));
    expect(Number(await edgeRedis.get<string>(counterKey))).toBe(
      Math.round(0.0007 * 0.6 * 1e9) * held.length,
    );
  });
});
