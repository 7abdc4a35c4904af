import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBenchKey, startBenchPool } from "../../bench/backends.ts";
import { startPrivateEdge } from "../../stack/private-edge.ts";
import { stopDaemon } from "../../stack/process.ts";

/**
 * A region at capacity, end to end: a real pool (one worker, MAX_IN_FLIGHT 2) in front of a slow
 * OpenAI-compatible stand-in upstream, and the edge as `npm start` serves it (deploy bundle in workerd
 * serve) with that pool as its only region. A burst of misses fills the pool, which sheds the rest
 * with 503 and its load (`x-tiergate-pool-load`); the edge then pauses the region and refuses new
 * misses itself (503 `overloaded`, no forward), while a cached answer is still served.
 */
const upstreamPort = 18_795;
const poolPort = 18_796;
const edgePort = 18_798;
const metricsPort = 18_799;
const poolName = "serve-region-pool";
const upstreamDelayMs = 2_500;

let upstream: Server;
let upstreamCalls = 0;
let edge: Awaited<ReturnType<typeof startPrivateEdge>>;
let apiKey = "";

/** Answers every chat completion after `upstreamDelayMs`, in OpenAI's shape. */
function startSlowUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (!req.url?.endsWith("/chat/completions")) {
        res.writeHead(404).end();
        return;
      }
      upstreamCalls++;
      const body = JSON.stringify({
        id: "chatcmpl-slow",
        object: "chat.completion",
        created: 1_700_000_000,
        model: "instant",
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      });
      setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(body), upstreamDelayMs);
    });
  });
  return new Promise((resolve) => server.listen(upstreamPort, "127.0.0.1", () => resolve(server)));
}

const ask = (content: string) =>
  fetch(`${edge.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "small", temperature: 0, messages: [{ role: "user", content }] }),
  });

type ErrorAnswer = { error: { code: string; message: string; request_id: string } };

beforeAll(async () => {
  upstream = await startSlowUpstream();
  await startBenchPool({
    name: poolName,
    port: poolPort,
    upstreamPort,
    region: "capped",
    env: { MAX_IN_FLIGHT: "2", POOL_PROCESSES: "1" },
  });
  edge = await startPrivateEdge({
    name: "serve-region-edge",
    port: edgePort,
    metricsPort,
    bindings: { POOL_REGIONS: `capped=http://127.0.0.1:${poolPort}` },
  });
  apiKey = await createBenchKey(`serve-region-${Date.now()}`);
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await stopDaemon(poolName, 10_000);
  await new Promise((resolve) => upstream?.close(resolve));
});

describe("a region at capacity", () => {
  it("reports its load, and the edge stops forwarding to it, sheds at once and still serves hits", async () => {
    const cachedQuestion = `cached ${crypto.randomUUID()}`;
    expect((await ask(cachedQuestion)).status).toBe(200);
    let hit = await ask(cachedQuestion);
    for (let i = 0; i < 20 && hit.headers.get("x-cache") !== "HIT"; i++) hit = await ask(cachedQuestion);
    expect(hit.headers.get("x-cache")).toBe("HIT");

    // Six misses at once: the pool takes two and sheds the rest with its load.
    const burst = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ask(`burst ${i} ${crypto.randomUUID()}`)),
    );
    expect(burst.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    expect(burst.filter((r) => r.status === 503).length).toBeGreaterThan(0);

    // Fill the pool again. Misses sent meanwhile are all refused: the first ones by the pool (the edge
    // then answers its fallback), and once the region's share is used up or the region is paused,
    // by the edge itself before any forward.
    const held = Array.from({ length: 2 }, (_, i) => ask(`held ${i} ${crypto.randomUUID()}`));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const callsBefore = upstreamCalls;
    const refusals: ErrorAnswer["error"][] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await ask(`while full ${i} ${crypto.randomUUID()}`);
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("1");
      if (answer.headers.get("x-fallback") === null)
        refusals.push(((await answer.json()) as ErrorAnswer).error);
      else await answer.arrayBuffer();
    }
    expect(upstreamCalls).toBe(callsBefore);
    expect(refusals.length).toBeGreaterThan(0);
    for (const error of refusals) {
      expect(error.code).toBe("overloaded");
      expect(error.message).toContain("Every region is at capacity");
    }

    const hitWhileShed = await ask(cachedQuestion);
    expect(hitWhileShed.status).toBe(200);
    expect(hitWhileShed.headers.get("x-cache")).toBe("HIT");
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);

    // Once the pool has room again (and the pause is over), misses are forwarded again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await ask(`after ${crypto.randomUUID()}`)).status).toBe(200);
  });
});
