import { describe, expect, it } from "vitest";
import {
  counterPlan,
  formatResetDuration,
  periodOf,
  reserveNanoUsd,
} from "../../../edge/services/spend-plan.ts";
import type { VerifiedKey } from "../../../shared/schemas/keys.ts";

const now = Date.UTC(2026, 1, 27, 13, 45, 30);
const key: VerifiedKey = {
  keyId: "key_a",
  tenantId: "t1",
  status: "active",
  allowedModels: null,
  rateLimitPerMinute: null,
  cacheTtlSeconds: null,
  tokensPerMinute: 1000,
  budgets: {
    limits: [
      { id: "b1", scope: "key", metric: "usd", period: "day", limit: 5, mode: "hard" },
      { id: "b2", scope: "tenant", metric: "tokens", period: "month", limit: 1e6, mode: "soft" },
      { id: "b3", scope: "tenant", metric: "usd", period: "total", limit: 100, mode: "hard" },
    ],
    priceCeiling: { input: 2, output: 8, cached: 1 },
  },
};

describe("spend counters of a request", () => {
  it("uses UTC days and months, and an endless total", () => {
    expect(periodOf("day", now)).toEqual({ start: Date.UTC(2026, 1, 27), end: Date.UTC(2026, 1, 28) });
    expect(periodOf("month", now)).toEqual({ start: Date.UTC(2026, 1, 1), end: Date.UTC(2026, 2, 1) });
    expect(periodOf("total", now)).toEqual({ start: 0, end: Number.POSITIVE_INFINITY });
  });

  it("reserves the worst case on every budget and the token minute", () => {
    const bound = { promptTokens: 300, completionTokens: 100 };
    expect(reserveNanoUsd(bound, { input: 2, output: 8, cached: 1 })).toBe(1_400_000);
    const plan = counterPlan(key, bound, now);
    expect(plan.map((c) => [c.key, c.amount, c.hardLimit])).toEqual([
      [`tg:spend:k:key_a:usd:day:${Date.UTC(2026, 1, 27)}`, 1_400_000, 5_000_000_000],
      [`tg:spend:t:t1:tokens:month:${Date.UTC(2026, 1, 1)}`, 400, null],
      ["tg:spend:t:t1:usd:total:0", 1_400_000, 100_000_000_000],
      [`tg:tpm:key_a:${Math.floor(now / 60_000)}`, 400, 1000],
    ]);
    expect(plan[2]?.ttlMs).toBe(0);
    expect(counterPlan({ ...key, budgets: null, tokensPerMinute: null }, bound, now)).toEqual([]);
  });

  it("writes reset durations as OpenAI does", () => {
    expect(formatResetDuration(850)).toBe("850ms");
    expect(formatResetDuration(12_000)).toBe("12s");
    expect(formatResetDuration(60_000)).toBe("1m0s");
    expect(formatResetDuration(90_500)).toBe("1m31s");
  });
});
