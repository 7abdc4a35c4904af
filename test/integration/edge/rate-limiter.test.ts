import { beforeEach, describe, expect, it } from "vitest";
import { createEdgeRedis } from "../../../edge/services/edge-services.ts";
import { RateLimiter } from "../../../edge/services/rate-limiter.ts";
import { host, localSecrets, ports } from "../../stack/ports.ts";

const redisAt = (url: string) => createEdgeRedis(url, localSecrets.upstashToken);
const redis = redisAt(`http://${host}:${ports.upstashBridge}`);
const limiterOptions = { deadlineMs: 500 };

/** The shared count of a key's current window, as Redis holds it. */
async function sharedCount(keyId: string): Promise<number> {
  const window = Math.floor(Date.now() / 60_000);
  return Number((await redis.get<string>(`tg:rl:${keyId}:${window}`)) ?? 0);
}

/** Runs `n` checks one after another, finishing each one's background sync as a Worker would. */
async function checks(limiter: RateLimiter, keyId: string, limit: number, n: number) {
  const decisions = [];
  const syncs: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const decision = await limiter.check(keyId, limit);
    if (decision.pending) syncs.push(decision.pending);
    decisions.push(decision);
  }
  await Promise.all(syncs);
  return decisions;
}

// Each test uses fresh keys and must run inside one minute window (counts are read from the current
// window), so it starts at least 10 s before the window ends.
beforeEach(async () => {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 10_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}, 15_000);

describe("RateLimiter (sliding minute, shared through Redis)", () => {
  it("is exact at a small limit: every request asks Redis, the one past the limit is refused", async () => {
    const limiter = new RateLimiter(redis, limiterOptions);
    const keyId = `small-${crypto.randomUUID()}`;
    const decisions = await checks(limiter, keyId, 5, 7);
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0]);
    expect(decisions.every((d) => d.enforced)).toBe(true);
    expect(await sharedCount(keyId)).toBe(5);
  });

  it("decides far from the limit in the isolate, adds those requests to Redis, and is exact at the limit", async () => {
    const limiter = new RateLimiter(redis, limiterOptions);
    const keyId = `large-${crypto.randomUUID()}`;
    const decisions = await checks(limiter, keyId, 300, 320);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(300);
    expect(decisions.slice(300).every((d) => !d.allowed)).toBe(true);
    expect(await sharedCount(keyId)).toBe(300);
  });

  it("lets two isolates together through no more than the limit when they take turns", async () => {
    const first = new RateLimiter(redis, limiterOptions);
    const second = new RateLimiter(redis, limiterOptions);
    const keyId = `shared-${crypto.randomUUID()}`;
    const allowed = [];
    for (let round = 0; round < 20; round++) {
      for (const limiter of [first, second]) {
        const decisions = await checks(limiter, keyId, 200, 10);
        allowed.push(...decisions.filter((d) => d.allowed));
      }
    }
    expect(allowed).toHaveLength(200);
    expect(await sharedCount(keyId)).toBe(200);
  });

  it("fails open, unenforced, when Redis cannot be reached", async () => {
    const limiter = new RateLimiter(redisAt(`http://${host}:9`), limiterOptions);
    const decisions = await checks(limiter, `down-${crypto.randomUUID()}`, 2, 4);
    expect(decisions.every((d) => d.allowed && !d.enforced && d.remaining === 2)).toBe(true);
  });
});
