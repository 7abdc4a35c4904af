import { createHash, randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { beforeAll, describe, expect, it } from "vitest";
import { host, localSecrets, ports } from "../../stack/ports.ts";
import { redisCommandOnce, redisService, upstashBridgeService } from "../../stack/services/redis.ts";

const url = `http://${host}:${ports.upstashBridge}`;
const client = (options: { token?: string; responseEncoding?: false } = {}) =>
  new Redis({
    url,
    token: options.token ?? localSecrets.upstashToken,
    retry: false,
    enableTelemetry: false,
    ...(options.responseEncoding === false ? { responseEncoding: false } : {}),
  });

/** A fresh key per test, so runs do not see each other's data. */
const key = (name: string) => `test:redis-bridge:${name}:${randomUUID()}`;

beforeAll(async () => {
  for (const service of [redisService, upstashBridgeService]) {
    await service.install();
    await service.start();
  }
});

describe("Upstash bridge through the unmodified @upstash/redis client", () => {
  it("sets and gets strings and JSON values, with and without base64 responses", async () => {
    for (const redis of [client(), client({ responseEncoding: false })]) {
      const text = key("text");
      const json = key("json");
      expect(await redis.set(text, "héllo wörld ✓")).toBe("OK");
      expect(await redis.get<string>(text)).toBe("héllo wörld ✓");
      const value = { model: "small", tokens: [1, 2, 3], nested: { ok: true } };
      await redis.set(json, value);
      expect(await redis.get(json)).toEqual(value);
    }
  });

  it("stores the value in Redis itself, readable over RESP", async () => {
    const k = key("resp");
    await client().set(k, "from-rest");
    const raw = await redisCommandOnce(["GET", k]);
    expect(Buffer.isBuffer(raw) ? raw.toString() : raw).toBe("from-rest");
  });

  it("honours EX: the key gets a TTL and is gone after expiry", async () => {
    const redis = client();
    const k = key("ex");
    await redis.set(k, "short", { ex: 100 });
    const ttl = await redis.ttl(k);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100);
    await redis.set(k, "gone", { px: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(await redis.get(k)).toBeNull();
  });

  it("returns null for a missing key and numbers for counters", async () => {
    const redis = client();
    const k = key("counter");
    expect(await redis.get(key("missing"))).toBeNull();
    expect(await redis.incr(k)).toBe(1);
    expect(await redis.incrby(k, 41)).toBe(42);
  });

  it("surfaces a Redis error as the client's UpstashError", async () => {
    const redis = client();
    const k = key("not-a-number");
    await redis.set(k, "abc");
    await expect(redis.incr(k)).rejects.toThrow(/not an integer/);
  });

  it("runs a pipeline and reports per-command errors", async () => {
    const redis = client();
    const [a, b] = [key("p-a"), key("p-b")];
    const results = await redis.pipeline().set(a, "1").incr(a).get(b).hset(b, { f: "v" }).exec();
    expect(results).toEqual(["OK", 2, null, 1]);
    const withError = await redis.pipeline().set(a, "x").incr(a).get(a).exec({ keepErrors: true });
    expect(withError[0]).toEqual({ error: undefined, result: "OK" });
    expect(withError[1]?.error).toMatch(/not an integer/);
    expect(withError[2]).toEqual({ error: undefined, result: "x" });
    await expect(redis.pipeline().set(a, "x").incr(a).exec()).rejects.toThrow(/Command 2 \[ incr \] failed/);
  });

  it("runs a MULTI/EXEC transaction", async () => {
    for (const redis of [client(), client({ responseEncoding: false })]) {
      const k = key("tx");
      const results = await redis.multi().set(k, "5").incrby(k, 10).get(k).exec();
      expect(results).toEqual(["OK", 15, 15]);
    }
  });

  it("reports a command failing inside EXEC per command", async () => {
    const k = key("tx-exec-error");
    const results = await client().multi().set(k, "x").incr(k).get(k).exec({ keepErrors: true });
    expect(results[0]?.result).toBe("OK");
    expect(results[1]?.error).toMatch(/not an integer/);
    expect(results[2]?.result).toBe("x");
  });

  it("rejects a transaction Redis aborts at queue time, and runs none of it", async () => {
    const redis = client();
    const k = key("tx-abort");
    // HSET with no field/value pairs is a wrong-arity command: Redis refuses to queue it.
    const tx = redis.multi().set(k, "1").hset(key("tx-abort-hash"), {});
    await expect(tx.exec()).rejects.toThrow(/EXECABORT/);
    expect(await redis.get(k)).toBeNull();
  });

  it("rejects a wrong or missing token with 401", async () => {
    await expect(client({ token: "wrong-token" }).get(key("auth"))).rejects.toThrow(/Unauthorized/);
    const response = await fetch(url, { method: "POST", body: JSON.stringify(["PING"]) });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "Unauthorized" });
  });

  it("speaks the path form and answers errors with HTTP 400", async () => {
    const headers = { authorization: `Bearer ${localSecrets.upstashToken}` };
    const k = key("path");
    const set = await fetch(`${url}/set/${encodeURIComponent(k)}/a%20b`, { headers });
    expect(await set.json()).toEqual({ result: "OK" });
    const get = await fetch(`${url}/get/${encodeURIComponent(k)}`, { headers });
    expect(await get.json()).toEqual({ result: "a b" });
    const bad = await fetch(url, { method: "POST", headers, body: JSON.stringify(["NOSUCHCOMMAND"]) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringMatching(/unknown command/) });
  });

  it("handles hashes, sets and sorted sets", async () => {
    const redis = client();
    const [h, s, z] = [key("hash"), key("set"), key("zset")];
    await redis.hset(h, { name: "tier-a", weight: 3, meta: { region: "eu" } });
    expect(await redis.hget(h, "name")).toBe("tier-a");
    expect(await redis.hgetall(h)).toEqual({ name: "tier-a", weight: 3, meta: { region: "eu" } });
    await redis.sadd(s, "a", "b", "c");
    expect((await redis.smembers(s)).sort()).toEqual(["a", "b", "c"]);
    expect(await redis.sismember(s, "b")).toBe(1);
    await redis.zadd(
      z,
      { score: 2, member: "two" },
      { score: 1, member: "one" },
      { score: 3, member: "three" },
    );
    expect(await redis.zrange(z, 0, -1)).toEqual(["one", "two", "three"]);
    expect(await redis.zrange(z, 0, 0, { withScores: true })).toEqual(["one", 1]);
    expect(await redis.zscore(z, "three")).toBe(3);
  });

  it("runs Lua through EVAL, EVALSHA and SCRIPT LOAD, including NOSCRIPT", async () => {
    const redis = client();
    const k = key("lua");
    const script = "redis.call('SET', KEYS[1], ARGV[1]); return {redis.call('GET', KEYS[1]), 7}";
    expect(await redis.eval(script, [k], ["lua-value"])).toEqual(["lua-value", 7]);
    const sha = await redis.scriptLoad(script);
    expect(await redis.evalsha(sha, [k], ["again"])).toEqual(["again", 7]);
    await expect(redis.evalsha("0".repeat(40), [k], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it("accepts Upstash-only script flags and keeps the client's script hash valid", async () => {
    const redis = client();
    const k = key("lua-flags");
    const script = "#!lua flags=allow-key-locking\nreturn {KEYS[1], ARGV[1]}";
    const clientSha = createHash("sha1").update(script).digest("hex");
    expect(await redis.eval(script, [k], ["a"])).toEqual([k, "a"]);
    expect(await redis.scriptLoad(script)).toBe(clientSha);
    expect(await redis.scriptExists(clientSha)).toEqual([1]);
    expect(await redis.evalsha(clientSha, [k], ["b"])).toEqual([k, "b"]);
  });

  it("the bridge health check is an authenticated PING", async () => {
    expect(await upstashBridgeService.healthy()).toBe(true);
    expect(await client().ping()).toBe("PONG");
  });
});
