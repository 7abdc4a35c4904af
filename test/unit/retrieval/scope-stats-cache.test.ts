import { describe, expect, it } from "vitest";
import { ScopeStatsCache } from "../../../workers/retrieval/scope-stats-cache.ts";

const stats = { chunks: 100, meanTokens: 12 };

function cacheAt(ttlMs: number, maxEntries = 10) {
  const clock = { now: 1_000 };
  return { clock, cache: new ScopeStatsCache(ttlMs, maxEntries, () => clock.now) };
}

describe("ScopeStatsCache", () => {
  it("serves an entry for its version until the TTL has passed", () => {
    const { clock, cache } = cacheAt(5_000);
    cache.set("t", "docs", { modelVersion: "m@1", stats });
    expect(cache.get("t", "docs", "m@1")).toEqual(stats);
    expect(cache.peek("t", "docs")).toEqual({ modelVersion: "m@1", stats });
    clock.now += 4_999;
    expect(cache.get("t", "docs", "m@1")).toEqual(stats);
    clock.now += 1;
    expect(cache.peek("t", "docs")).toBeUndefined();
    expect(cache.get("t", "docs", "m@1")).toBeUndefined();
  });

  it("never serves another version's stats, nor another tenant's or collection's", () => {
    const { cache } = cacheAt(5_000);
    cache.set("t", "docs", { modelVersion: "m@1", stats });
    expect(cache.get("other", "docs", "m@1")).toBeUndefined();
    expect(cache.get("t", "faq", "m@1")).toBeUndefined();
    expect(cache.get("t", "docs", "m@2")).toBeUndefined();
    // A version mismatch drops the entry: the next read goes to ClickHouse.
    expect(cache.peek("t", "docs")).toBeUndefined();
  });

  it("keys cannot collide through separators in the names", () => {
    const { cache } = cacheAt(5_000);
    cache.set("a,b", "c", { modelVersion: "m@1", stats });
    expect(cache.peek("a", "b,c")).toBeUndefined();
  });

  it("does not keep empty scopes, and keeps nothing with a TTL of 0", () => {
    const { cache } = cacheAt(5_000);
    cache.set("t", "docs", { modelVersion: "m@1", stats: { chunks: 0, meanTokens: 1 } });
    expect(cache.peek("t", "docs")).toBeUndefined();
    const off = cacheAt(0).cache;
    off.set("t", "docs", { modelVersion: "m@1", stats });
    expect(off.peek("t", "docs")).toBeUndefined();
  });

  it("drops the oldest entry beyond its capacity", () => {
    const { cache } = cacheAt(5_000, 2);
    cache.set("t", "a", { modelVersion: "m@1", stats });
    cache.set("t", "b", { modelVersion: "m@1", stats });
    cache.set("t", "c", { modelVersion: "m@1", stats });
    expect(cache.peek("t", "a")).toBeUndefined();
    expect(cache.peek("t", "b")).toBeDefined();
    expect(cache.peek("t", "c")).toBeDefined();
  });
});
