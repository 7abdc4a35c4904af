import { afterEach, describe, expect, it, vi } from "vitest";
import { BatchedRedis } from "../../../edge/services/batched-redis.ts";
import { host, localSecrets, ports } from "../../stack/ports.ts";

const bridgeUrl = `http://${host}:${ports.upstashBridge}`;

function batchedRedis(maxInFlight: number, url = bridgeUrl): BatchedRedis {
  return new BatchedRedis(
    {
      url,
      token: localSecrets.upstashToken,
      automaticDeserialization: false,
      enableTelemetry: false,
      readYourWrites: false,
      retry: false,
      signal: () => AbortSignal.timeout(1_000),
    },
    { maxInFlight, maxBatch: 64, staleMs: 2_000 },
  );
}

/** Counts the HTTP calls the client makes (they still go to the real bridge). */
function countCalls(): { calls: () => number; paths: string[] } {
  const paths: string[] = [];
  const real = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
    return real(input, init);
  });
  return { calls: () => paths.length, paths };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("BatchedRedis against the Upstash bridge", () => {
  it("answers each of many concurrent commands correctly, in far fewer /pipeline calls", async () => {
    const redis = batchedRedis(2);
    const prefix = `tg:test:batch:${crypto.randomUUID()}`;
    const counter = countCalls();
    const keys = Array.from({ length: 200 }, (_, i) => `${prefix}:${i}`);
    await Promise.all(keys.map((key, i) => redis.set(key, `value-${i}`, { ex: 60 })));
    const values = await Promise.all(keys.map((key) => redis.get<string>(key)));
    expect(values).toEqual(keys.map((_, i) => `value-${i}`));
    expect(counter.paths.every((path) => path === "/pipeline")).toBe(true);
    // 400 commands; with two pipelines on the wire at a time the rest queue and leave together.
    expect(counter.calls()).toBeLessThanOrEqual(20);
    await redis.del(...keys);
  });

  it("sends a lone command at once, as a pipeline of one", async () => {
    const redis = batchedRedis(2);
    const counter = countCalls();
    expect(await redis.get(`tg:test:batch:absent:${crypto.randomUUID()}`)).toBeNull();
    expect(counter.paths).toEqual(["/pipeline"]);
  });

  it("keeps a failing command's error to that command", async () => {
    const redis = batchedRedis(1);
    const key = `tg:test:batch:${crypto.randomUUID()}`;
    await redis.set(key, "not a number", { ex: 60 });
    const [bad, good] = await Promise.allSettled([redis.incr(key), redis.get<string>(key)]);
    expect(bad.status).toBe("rejected");
    expect(good).toEqual({ status: "fulfilled", value: "not a number" });
  });

  it("rejects every command of a pipeline that cannot be delivered, and keeps working afterwards", async () => {
    const unreachable = batchedRedis(1, `http://${host}:9`);
    const results = await Promise.allSettled([
      unreachable.get("a"),
      unreachable.get("b"),
      unreachable.get("c"),
    ]);
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected", "rejected"]);
    // The slots were given back: the next command is sent (and fails) instead of waiting forever.
    await expect(unreachable.get("d")).rejects.toThrow();
  });
});
