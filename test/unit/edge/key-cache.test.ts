import type { Redis } from "@upstash/redis/cloudflare";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ApiKeyVerifier } from "../../../edge/services/api-keys.ts";
import { PoolClient } from "../../../edge/services/pool-client.ts";
import { keyCacheEntry } from "../../../shared/schemas/keys.ts";
import { sha256Hex } from "../../../shared/signing.ts";
import { FakePool, goodKey } from "./fake-pool.ts";

/** An in-memory stand-in for the few Redis calls the verifier makes (values and their expiry). */
class MemoryRedis {
  readonly values = new Map<string, { value: string; expiresAt: number }>();
  reads = 0;
  async get(key: string): Promise<string | null> {
    this.reads++;
    const entry = this.values.get(key);
    return entry && entry.expiresAt > Date.now() ? entry.value : null;
  }
  async pttl(key: string): Promise<number> {
    const entry = this.values.get(key);
    return entry && entry.expiresAt > Date.now() ? entry.expiresAt - Date.now() : -2;
  }
  async set(key: string, value: string, options: { ex: number }): Promise<"OK"> {
    this.values.set(key, { value, expiresAt: Date.now() + options.ex * 1000 });
    return "OK";
  }
}

const pool = new FakePool();
let client: PoolClient;
let entry = "";
const activeKey = {
  keyId: "key_cached",
  tenantId: "unit-tenant",
  status: "active",
  allowedModels: null,
  rateLimitPerMinute: null,
  cacheTtlSeconds: null,
};

beforeAll(async () => {
  client = new PoolClient([{ name: "local", url: await pool.start() }], "x".repeat(32));
  entry = keyCacheEntry(await sha256Hex(goodKey));
});
afterAll(() => pool.stop());
afterEach(() => vi.useRealTimers());

function verifier(redis: MemoryRedis): ApiKeyVerifier {
  return new ApiKeyVerifier({ redis: redis as unknown as Redis, pool: client, ttlSeconds: 30 });
}

describe("the edge's key cache", () => {
  it("keeps the isolate's copy only as long as Redis still keeps the entry, not a fresh TTL", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const redis = new MemoryRedis();
    redis.values.set(entry, { value: JSON.stringify(activeKey), expiresAt: Date.now() + 2_000 });
    const keys = verifier(redis);
    pool.keyLookups = 0;
    expect((await keys.verify(`Bearer ${goodKey}`, "req_1")).keyId).toBe("key_cached");
    expect(pool.keyLookups).toBe(0);
    // Revocation deleted the Redis entry; the isolate's copy must not outlive the 2 s Redis had left.
    redis.values.delete(entry);
    vi.setSystemTime(Date.now() + 2_500);
    expect((await keys.verify(`Bearer ${goodKey}`, "req_2")).keyId).toBe("key_active");
    expect(pool.keyLookups).toBe(1);
  });

  it("treats a malformed cached value as a miss and asks the pool", async () => {
    for (const value of ["{not json", JSON.stringify({ keyId: 1 }), "[]", '"text"']) {
      const redis = new MemoryRedis();
      redis.values.set(entry, { value, expiresAt: Date.now() + 30_000 });
      pool.keyLookups = 0;
      expect((await verifier(redis).verify(`Bearer ${goodKey}`, "req_3")).keyId).toBe("key_active");
      expect(pool.keyLookups).toBe(1);
      expect(redis.values.get(entry)?.value).toContain("key_active");
    }
  });

  it("caches unknown keys for the short negative TTL only", async () => {
    const redis = new MemoryRedis();
    const unknown = `tg_${"u".repeat(32)}`;
    await expect(verifier(redis).verify(`Bearer ${unknown}`, "req_4")).rejects.toMatchObject({
      code: "INVALID_API_KEY",
    });
    const cached = redis.values.get(keyCacheEntry(await sha256Hex(unknown)));
    expect(cached?.value).toBe("null");
    expect((cached?.expiresAt ?? 0) - Date.now()).toBeLessThanOrEqual(5_000);
  });

  it("shares one lookup among concurrent requests of a key that is in no cache (no stampede at expiry)", async () => {
    const keys = verifier(new MemoryRedis());
    pool.keyLookups = 0;
    const verified = await Promise.all(
      Array.from({ length: 20 }, (_, i) => keys.verify(`Bearer ${goodKey}`, `req_${i}`)),
    );
    expect(verified.every((key) => key.keyId === verified[0]?.keyId)).toBe(true);
    expect(pool.keyLookups).toBe(1);
  });
});

describe("the key cache near expiry and under concurrent lookups", () => {
  it("lets one request refresh an entry in its last seconds while the others keep using it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const redis = new MemoryRedis();
    const keys = verifier(redis);
    pool.keyLookups = 0;
    pool.keyExtras = {};
    await keys.verify(`Bearer ${goodKey}`, "req_first");
    expect([redis.reads, pool.keyLookups]).toEqual([1, 1]);
    vi.setSystemTime(Date.now() + 10_000);
    await Promise.all([1, 2, 3].map((i) => keys.verify(`Bearer ${goodKey}`, `req_mid_${i}`)));
    expect(redis.reads).toBe(1);
    // In the last five seconds of the 30 s entry: one refresh (Redis still has it) for many requests.
    vi.setSystemTime(Date.now() + 17_000);
    const answers = await Promise.all(
      [1, 2, 3, 4].map((i) => keys.verify(`Bearer ${goodKey}`, `req_late_${i}`)),
    );
    expect(answers.every((key) => key.keyId === "key_active")).toBe(true);
    expect([redis.reads, pool.keyLookups]).toEqual([2, 1]);
    // Past Redis's expiry the pool is asked again, once.
    vi.setSystemTime(Date.now() + 4_000);
    await Promise.all([1, 2].map((i) => keys.verify(`Bearer ${goodKey}`, `req_after_${i}`)));
    expect(pool.keyLookups).toBe(2);
  });

  it("lets concurrent requests of an unknown entry share one lookup, each waiting from its own request", async () => {
    const keys = verifier(new MemoryRedis());
    pool.keyLookups = 0;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => keys.verify(`Bearer ${goodKey}`, `req_cold_${i}`)),
    );
    expect(answers.every((key) => key.keyId === "key_active")).toBe(true);
    expect(pool.keyLookups).toBe(1);
  });
});
