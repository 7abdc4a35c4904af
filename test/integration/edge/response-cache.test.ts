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

  it("a read takes queued writes along in its own call and hands their completion to its request", async () => {
    const cache = cacheAt(bridgeUrl);
    const keys = [1, 2].map((n) => `tg:resp:cache-test:${crypto.randomUUID()}-${n}`);
    const lingering = cache.set(keys[0] ?? "", completion(1));
    expect(cache.set(keys[1] ?? "", completion(2))).toBeNull();
    const handed: Promise<void>[] = [];
    const absent = `tg:resp:cache-test:${crypto.randomUUID()}-absent`;
    expect(await cache.lookup(absent, (write) => handed.push(write))).toEqual({ status: "miss" });
    expect(handed).toHaveLength(1);
    await handed[0];

    const reader = cacheAt(bridgeUrl);
    const lookups = await Promise.all(keys.map((key) => reader.lookup(key)));
    expect(lookups).toEqual([1, 2].map((n) => ({ status: "hit", body: completion(n), tier: "redis" })));
    // The linger timer of the first write finds nothing left to send.
    await expect(lingering).resolves.toBeUndefined();
    // Nothing queued: a read alone hands nothing over.
    await reader.lookup(absent, (write) => handed.push(write));
    expect(handed).toHaveLength(1);
  });

  it("a write taken along by a read fails typed in that request's background when Redis is unreachable", async () => {
    const cache = cacheAt("http://127.0.0.1:9");
    const lingering = cache.set(`tg:resp:cache-test:${crypto.randomUUID()}`, completion(9));
    // Like inBackground, the request attaches its handler as soon as it is handed the write.
    const failures: Promise<void>[] = [];
    const handOver = (write: Promise<void>) => {
      failures.push(expect(write).rejects.toBeInstanceOf(DependencyError));
    };
    expect(await cache.lookup(`tg:resp:cache-test:${crypto.randomUUID()}`, handOver)).toEqual({
      status: "unavailable",
    });
    expect(failures).toHaveLength(1);
    await failures[0];
    await expect(lingering).resolves.toBeUndefined();
  });
});
