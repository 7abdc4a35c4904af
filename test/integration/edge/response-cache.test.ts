import { describe, expect, it } from "vitest";
import { RecentEntries } from "../../../edge/lib/recent-entries.ts";
import { createEdgeRedis } from "../../../edge/services/edge-services.ts";
import { ResponseCache } from "../../../edge/services/response-cache.ts";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { host, localSecrets, ports } from "../../stack/ports.ts";

const bridgeUrl = `http://${host}:${ports.upstashBridge}`;
const memoryOff = () => new RecentEntries({ ttlMs: 0, maxEntries: 1, maxChars: 1 });
const cacheAt = (url: string, recent = memoryOff()) =>
  new ResponseCache(createEdgeRedis(url, localSecrets.upstashToken), {
    defaultTtlSeconds: 60,
    deadlineMs: 500,
    recent,
  });
const completion = (n: number) => JSON.stringify({ id: `chatcmpl-${n}`, object: "chat.completion" });

describe("ResponseCache writes (real Redis through the Upstash bridge)", () => {
  it("sends concurrent writes in one background call, started by the first of them", async () => {
    const cache = cacheAt(bridgeUrl);
    const keys = [1, 2, 3].map((n) => `tg:resp:cache-test:${crypto.randomUUID()}-${n}`);
    const writes = keys.map((key, n) => cache.set(key, completion(n)));
    expect(writes[0]).toBeInstanceOf(Promise);
    expect(writes.slice(1)).toEqual([null, null]);
    await writes[0];

    // A second edge without a memory tier reads all three from Redis.
    const reader = cacheAt(bridgeUrl);
    const lookups = await Promise.all(keys.map((key) => reader.lookup(key)));
    expect(lookups).toEqual(keys.map((_, n) => ({ status: "hit", body: completion(n), tier: "redis" })));
  });

  it("keeps an entry in the memory tier, and rejects the background write typed, when Redis is unreachable", async () => {
    const cache = cacheAt(
      "http://127.0.0.1:9",
      new RecentEntries({ ttlMs: 60_000, maxEntries: 10, maxChars: 10_000 }),
    );
    const key = `tg:resp:cache-test:${crypto.randomUUID()}`;
    const write = cache.set(key, completion(7));
    await expect(write).rejects.toBeInstanceOf(DependencyError);
    expect(await cache.lookup(key)).toEqual({ status: "hit", body: completion(7), tier: "memory" });
    expect(await cache.lookup(`${key}-other`)).toEqual({ status: "unavailable" });
    // The failed batch is gone: the next write starts a new call (which fails the same way).
    const next = cache.set(`${key}-next`, completion(8));
    expect(next).toBeInstanceOf(Promise);
    await expect(next).rejects.toBeInstanceOf(DependencyError);
  });
});
