import { randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { host, localSecrets, ports } from "../../stack/ports.ts";
import { redisService, upstashBridgeService } from "../../stack/services/redis.ts";

// The client's default settings (its retries included): what the gateway will use.
const redis = new Redis({
  url: `http://${host}:${ports.upstashBridge}`,
  token: localSecrets.upstashToken,
  enableTelemetry: false,
});

const key = (name: string) => `test:redis-outage:${name}:${randomUUID()}`;

async function startAll(): Promise<void> {
  for (const service of [redisService, upstashBridgeService]) {
    await service.install();
    await service.start();
  }
}

beforeAll(startAll);
// Whatever happens in a test, leave the stack up for the next file.
afterAll(startAll);

describe("Redis outages behind the Upstash bridge", () => {
  it("keeps data across a Redis restart", async () => {
    const k = key("durable");
    await redis.set(k, { kept: true });
    await redis.hset(`${k}:h`, { field: "value" });
    await redisService.stop();
    expect(await redisService.healthy()).toBe(false);
    await redisService.start();
    expect(await redis.get(k)).toEqual({ kept: true });
    expect(await redis.hget(`${k}:h`, "field")).toBe("value");
  });

  it("answers with an error, not a hang, while Redis is down, and recovers by itself", async () => {
    const k = key("outage");
    await redis.set(k, "before");
    await redisService.stop();
    try {
      await expect(redis.get(k)).rejects.toThrow(/redis unavailable/);
      await expect(redis.pipeline().get(k).incr(key("n")).exec()).rejects.toThrow(/redis unavailable/);
      const response = await fetch(`http://${host}:${ports.upstashBridge}`, {
        method: "POST",
        headers: { authorization: `Bearer ${localSecrets.upstashToken}` },
        body: JSON.stringify(["GET", k]),
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ error: expect.stringMatching(/^ERR redis unavailable/) });
      expect(await upstashBridgeService.healthy()).toBe(false);
    } finally {
      await redisService.start();
    }
    // Same bridge process, new connections: no bridge restart needed.
    expect(await upstashBridgeService.healthy()).toBe(true);
    expect(await redis.get(k)).toBe("before");
  }, 20_000);
});
