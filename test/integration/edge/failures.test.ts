import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abstentions, answerResponseSchema } from "../../../shared/schemas/answer.ts";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { poolService } from "../../stack/gateway.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { repoRoot } from "../../stack/paths.ts";
import { localClickHouse } from "../../stack/services/clickhouse.ts";
import { upstashBridgeService } from "../../stack/services/redis.ts";
import { localClient } from "../clickhouse/local-clickhouse.ts";
import { createEmptyCollection, dropTenantRag } from "../retrieval/demo-corpus.ts";
import { FaultProxy } from "./fault-proxy.ts";
import { type ExtraEdge, startWranglerEdge } from "./wrangler-edge.ts";

// An edge in workerd whose pool and Redis sit behind fault proxies, so each test can block one.
const poolProxy = new FaultProxy(poolService.url);
const redisProxy = new FaultProxy(upstashBridgeService.url);
let edge: ExtraEdge;
let apiKey = "";

function chat(content: string, extra: Record<string, unknown> = {}, key = apiKey): Promise<Response> {
  return fetch(`${edge.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "auto",
      temperature: 0,
      max_tokens: 8,
      messages: [{ role: "user", content: `${content} ${crypto.randomUUID()}` }],
      ...extra,
    }),
  });
}

async function expectFallback(response: Response, reason: string): Promise<void> {
  expect(response.status).toBe(503);
  expect(response.headers.get("x-fallback")).toBe(reason);
  expect(response.headers.get("retry-after")).toBe("1");
  const body = (await response.json()) as { object: string; choices: { message: { content: string } }[] };
  expect(body.object).toBe("chat.completion");
  expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
}

const faultsTenant = `faults-${Date.now()}`;
const ch = localClient(localClickHouse.database, 30_000);

beforeAll(async () => {
  await poolService.start();
  await upstashBridgeService.start();
  const poolUrl = await poolProxy.start();
  const redisUrl = await redisProxy.start();
  edge = await startWranglerEdge("edge-faults", 8797, {
    POOL_REGIONS: `proxied=${poolUrl}`,
    UPSTASH_REDIS_REST_URL: redisUrl,
    POOL_TIMEOUT_MS: "8000",
    CACHE_DEADLINE_MS: "10",
    KEY_CACHE_TTL_SECONDS: "1",
    BREAKER_FAILURES: "6",
    BREAKER_OPEN_MS: "600000",
  });
  apiKey = (await createTestApiKey(faultsTenant)).key;
  await createEmptyCollection(ch, faultsTenant, "edge-tests-empty");
  expect((await chat("warm up")).status).toBe(200);
});

afterAll(async () => {
  await dropTenantRag(ch, faultsTenant);
  await ch.close();
  await edge?.stop();
  await poolProxy.stop();
  await redisProxy.stop();
});

describe("edge failures, with the dependency really blocked (workerd)", () => {
  it("proceeds uncached, and lets requests through the rate limiter, while Redis hangs", async () => {
    redisProxy.mode = "hang";
    try {
      // A key this isolate already counts: decided here (the shared count syncs later), not refused.
      const known = await chat("redis hangs");
      expect(known.status).toBe(200);
      expect(known.headers.get("x-cache")).toBe("MISS");
      expect(Number(known.headers.get("x-ratelimit-remaining"))).toBeGreaterThan(0);
      expect(((await known.json()) as { object: string }).object).toBe("chat.completion");
      // A key it has not seen must ask Redis, which hangs: the limiter fails open (nothing counted).
      const freshKey = (await createTestApiKey(`faults-fresh-${Date.now()}`)).key;
      const fresh = await chat("redis hangs, new key", {}, freshKey);
      expect(fresh.status).toBe(200);
      expect(fresh.headers.get("x-cache")).toBe("MISS");
      expect(fresh.headers.get("x-ratelimit-remaining")).toBe(fresh.headers.get("x-ratelimit-limit"));
    } finally {
      redisProxy.mode = "pass";
      redisProxy.release();
    }
  });

  it("falls back with deadline_exceeded when the pool hangs past the deadline", async () => {
    poolProxy.mode = "hang";
    try {
      await expectFallback(await chat("pool hangs"), "deadline_exceeded");
    } finally {
      poolProxy.mode = "pass";
      poolProxy.release();
    }
  });

  it("falls back cleanly (a complete SSE stream) when a streamed call fails before the first token", async () => {
    poolProxy.mode = "error500";
    try {
      const response = await chat("stream 500", { stream: true });
      expect(response.status).toBe(503);
      expect(response.headers.get("x-fallback")).toBe("upstream_error");
      const text = await response.text();
      expect(text.trim().endsWith("data: [DONE]")).toBe(true);
    } finally {
      poolProxy.mode = "pass";
    }
  });

  it("falls back with malformed_response when the pool's answer is not a completion", async () => {
    poolProxy.mode = "malformed";
    try {
      await expectFallback(await chat("malformed"), "malformed_response");
    } finally {
      poolProxy.mode = "pass";
    }
  });

  it("stops accepting a key revoked with the CLI within KEY_CACHE_TTL_SECONDS", async () => {
    const { key, keyId } = await createTestApiKey(`revoke-${Date.now()}`);
    expect((await chat("before revoke", {}, key)).status).toBe(200);
    const env = localPoolEnv();
    const cli = spawnSync(
      join(repoRoot, "node_modules", ".bin", "bun"),
      ["workers/scripts/keys.ts", "revoke", keyId],
      {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: env.DATABASE_URL, NEON_WS_PROXY: env.NEON_WS_PROXY },
        encoding: "utf8",
      },
    );
    expect(cli.stdout).toContain(`revoked ${keyId}`);
    let status = 200;
    for (let i = 0; i < 40 && status !== 403; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const response = await chat("after revoke", {}, key);
      status = response.status;
      await response.arrayBuffer();
    }
    expect(status).toBe(403);
  });

  it("forwards /v1/answer, and answers the abstention (retrieval_unavailable) when the pool fails", async () => {
    const ask = () =>
      fetch(`${edge.url}/v1/answer`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          question: "What is in the empty collection?",
          collection: "edge-tests-empty",
        }),
      });
    const answered = await ask();
    expect(answered.status).toBe(200);
    expect(answerResponseSchema.parse(await answered.json()).object).toBe("answer");

    poolProxy.mode = "error500";
    try {
      const response = await ask();
      expect(response.status).toBe(503);
      expect(response.headers.get("x-fallback")).toBe("upstream_error");
      const body = answerResponseSchema.parse(await response.json());
      expect(body).toMatchObject({
        rule: "retrieval_unavailable",
        answer: abstentions.no_context,
        citations: [],
      });
    } finally {
      poolProxy.mode = "pass";
    }
  });

  it("opens the circuit after consecutive 5xx and then answers circuit_open without calling the pool", async () => {
    // A success first resets the consecutive-failure count left by the tests above.
    expect((await chat("healthy again")).status).toBe(200);
    poolProxy.mode = "error500";
    for (let i = 0; i < 6; i++) await expectFallback(await chat(`failing ${i}`), "upstream_error");
    const chatCalls = () => poolProxy.seen.filter((p) => p.startsWith("/internal/v1/chat")).length;
    const before = chatCalls();
    await expectFallback(await chat("circuit"), "circuit_open");
    expect(chatCalls()).toBe(before);
    poolProxy.mode = "pass";
  });
});
