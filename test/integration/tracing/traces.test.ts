import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { localEdgeEnv } from "../../stack/local-env.ts";
import { repoRoot } from "../../stack/paths.ts";
import { localClickHouse } from "../../stack/services/clickhouse.ts";
import { jaegerService, localOtlpTracesUrl } from "../../stack/services/jaeger.ts";
import { localClient } from "../clickhouse/local-clickhouse.ts";
import { FaultProxy } from "../edge/fault-proxy.ts";
import { dropTenantRag, ingestDemoCorpus } from "../retrieval/demo-corpus.ts";
import { startTestPool, type TestPool } from "../router/pool-harness.ts";
import { clientTraceparent, type FoundSpan, waitForTrace } from "./jaeger-client.ts";

const poolPort = 18_311;
const edgePort = 18_312;
const deadEdgePort = 18_313;
/** In front of the pool for the second edge: it fails the pool on demand, so that edge falls back. */
const proxy = new FaultProxy(`http://127.0.0.1:${poolPort}`);
const run = Date.now();
const tenant = `traces-${run}`;
const services = { edge: `tiergate-edge-test-${run}`, pool: `tiergate-pool-test-${run}` };
const tracing = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: localOtlpTracesUrl, OTEL_TRACES_SAMPLER_ARG: "1" };
const ch = localClient(localClickHouse.database, 60_000);
const edges: ChildProcess[] = [];
let pool: TestPool;
let apiKey = "";

/** The Deno edge on its own port, tracing to the local Jaeger. */
async function startDenoEdge(port: number, poolUrl: string): Promise<string> {
  const child = spawn(
    `${repoRoot}/node_modules/.bin/deno`,
    [
      "run",
      "--node-modules-dir=manual",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      "edge/deno.ts",
    ],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...localEdgeEnv(),
        ...tracing,
        OTEL_SERVICE_NAME: services.edge,
        POOL_REGIONS: `local=${poolUrl}`,
        EDGE_PORT: String(port),
        EDGE_HOST: "127.0.0.1",
        DENO_NO_UPDATE_CHECK: "1",
      },
      stdio: "ignore",
    },
  );
  edges.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return url;
    if (child.exitCode !== null || i > 600) throw new Error(`deno edge on ${port} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let edgeUrl = "";
let deadEdgeUrl = "";

beforeAll(async () => {
  // The collector is on demand: a fresh machine builds it here (minutes; cached under .stack/).
  await jaegerService.install();
  await jaegerService.start();
  pool = await startTestPool(poolPort, { ...tracing, OTEL_SERVICE_NAME: services.pool });
  [edgeUrl, deadEdgeUrl] = await Promise.all([
    startDenoEdge(edgePort, pool.url),
    proxy.start().then((url) => startDenoEdge(deadEdgePort, url)),
  ]);
  apiKey = (await createTestApiKey(tenant)).key;
}, 1_200_000);

afterAll(async () => {
  for (const edge of edges) edge.kill("SIGTERM");
  proxy.release();
  await proxy.stop();
  await pool?.stop();
  await dropTenantRag(ch, tenant);
  await ch.close();
});

function chat(url: string, traceparent: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", traceparent },
    body: JSON.stringify({ model: "auto", temperature: 0, max_tokens: 8, ...body }),
  });
}

function one(spans: FoundSpan[], service: string, name: string | RegExp): FoundSpan {
  const found = spans.filter(
    (s) => s.service === service && (typeof name === "string" ? s.name === name : name.test(s.name)),
  );
  expect(
    found.map((s) => s.name),
    `${service}/${String(name)}`,
  ).toHaveLength(1);
  return found[0] as FoundSpan;
}

const has = (spans: FoundSpan[], service: string, name: string | RegExp) =>
  spans.some(
    (s) => s.service === service && (typeof name === "string" ? s.name === name : name.test(s.name)),
  );

const edgeRootName = "POST /v1/chat/completions";
const poolRootName = "POST /internal/v1/chat/completions";

describe("traces in the real collector (Jaeger), edge (Deno) → pool (Bun) → model server", () => {
  let repeatBody: Record<string, unknown> = {};

  it("follows a forwarded request across edge and pool in one trace, with GenAI attributes", async () => {
    const client = clientTraceparent();
    repeatBody = { messages: [{ role: "user", content: `Say hello. (${crypto.randomUUID()})` }] };
    const response = await chat(edgeUrl, client.traceparent, repeatBody);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get("x-cache")).toBe("MISS");
    await response.text();
    const spans = await waitForTrace(
      client.traceId,
      (s) =>
        has(s, services.pool, /^chat /) &&
        has(s, services.pool, /^send tiergate\./) &&
        has(s, services.edge, edgeRootName),
    );

    const edgeRoot = one(spans, services.edge, edgeRootName);
    expect(edgeRoot.parentSpanId).toBe(client.spanId);
    expect(edgeRoot.attributes["http.response.status_code"]).toBe(200);
    expect(edgeRoot.attributes["tiergate.tenant"]).toBe(tenant);
    expect(one(spans, services.edge, "tiergate.key.verify").parentSpanId).toBe(edgeRoot.spanId);
    const lookup = one(spans, services.edge, "tiergate.cache.lookup");
    expect(lookup.parentSpanId).toBe(edgeRoot.spanId);
    expect(lookup.attributes["tiergate.cache.result"]).toBe("miss");
    const forward = one(spans, services.edge, "tiergate.forward");
    expect(forward.parentSpanId).toBe(edgeRoot.spanId);
    expect(forward.attributes["tiergate.region"]).toBe("local");

    const poolRoot = one(spans, services.pool, poolRootName);
    expect(poolRoot.parentSpanId).toBe(forward.spanId);
    expect(poolRoot.attributes["tiergate.tenant"]).toBe(tenant);
    const route = one(spans, services.pool, "tiergate.route");
    expect(route.parentSpanId).toBe(poolRoot.spanId);
    expect(route.attributes["gen_ai.request.model"]).toBe("auto");
    expect(route.attributes["tiergate.route.tier"]).toMatch(/^(small|medium|large)$/);

    const model = one(spans, services.pool, /^chat /);
    expect(model.parentSpanId).toBe(poolRoot.spanId);
    expect(model.attributes["gen_ai.operation.name"]).toBe("chat");
    expect(model.attributes["gen_ai.provider.name"]).toBeTypeOf("string");
    expect(model.attributes["gen_ai.request.model"]).toBeTypeOf("string");
    expect(model.attributes["gen_ai.response.model"]).toBeTypeOf("string");
    expect(model.attributes["gen_ai.usage.input_tokens"]).toBeGreaterThan(0);
    expect(model.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
    expect(model.attributes["gen_ai.request.max_tokens"]).toBe(8);

    const publish = one(spans, services.pool, /^send tiergate\./);
    expect(publish.parentSpanId).toBe(poolRoot.spanId);
    expect(publish.attributes["messaging.system"]).toBe("kafka");
  });

  it("records a cache hit at the edge with no pool span in its trace", async () => {
    const client = clientTraceparent();
    const response = await chat(edgeUrl, client.traceparent, repeatBody);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-cache")).toBe("HIT");
    await response.text();
    const spans = await waitForTrace(client.traceId, (s) => has(s, services.edge, edgeRootName));
    const edgeRoot = one(spans, services.edge, edgeRootName);
    expect(edgeRoot.attributes["tiergate.cache.result"]).toBe("HIT");
    const lookup = one(spans, services.edge, "tiergate.cache.lookup");
    expect(lookup.parentSpanId).toBe(edgeRoot.spanId);
    expect(lookup.attributes["tiergate.cache.result"]).toBe("hit");
    expect(["memory", "redis"]).toContain(lookup.attributes["tiergate.cache.tier"]);
    expect(has(spans, services.edge, "tiergate.forward")).toBe(false);
    expect(spans.some((s) => s.service === services.pool)).toBe(false);
  });

  it("marks the forward failed and names the fallback reason when no pool answers", async () => {
    // The key is verified (and kept in the edge's memory) while the pool still answers.
    proxy.mode = "pass";
    const models = await fetch(`${deadEdgeUrl}/v1/models`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(models.status).toBe(200);
    await models.text();
    proxy.mode = "error500";
    const client = clientTraceparent();
    const response = await chat(deadEdgeUrl, client.traceparent, {
      messages: [{ role: "user", content: `Anyone there? (${crypto.randomUUID()})` }],
    });
    expect(response.status).toBe(503);
    const reason = response.headers.get("x-fallback");
    expect(reason).toBeTruthy();
    await response.text();
    const spans = await waitForTrace(client.traceId, (s) => has(s, services.edge, edgeRootName));
    const edgeRoot = one(spans, services.edge, edgeRootName);
    expect(edgeRoot.attributes["tiergate.fallback.reason"]).toBe(reason);
    expect(edgeRoot.attributes["http.response.status_code"]).toBe(503);
    const forward = one(spans, services.edge, "tiergate.forward");
    expect(forward.parentSpanId).toBe(edgeRoot.spanId);
    expect(forward.attributes["tiergate.fallback.reason"]).toBe(reason);
    expect(String(forward.status.code)).toMatch(/ERROR|2/);
  });

  it("shows a RAG answer's retrieval (both sides, ClickHouse queries) and generation under the pool span", async () => {
    await ingestDemoCorpus(ch, tenant);
    const client = clientTraceparent();
    const response = await chat(edgeUrl, client.traceparent, {
      rag: { collection: "docs" },
      messages: [{ role: "user", content: "Which requests does the edge cache?" }],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-tiergate-rag-rule")).toBe("generated");
    await response.text();
    const spans = await waitForTrace(
      client.traceId,
      (s) =>
        has(s, services.pool, "tiergate.retrieve") &&
        has(s, services.pool, /^chat /) &&
        has(s, services.edge, edgeRootName),
    );
    const poolRoot = one(spans, services.pool, poolRootName);
    const retrieve = one(spans, services.pool, "tiergate.retrieve");
    expect(retrieve.parentSpanId).toBe(poolRoot.spanId);
    expect(retrieve.attributes["gen_ai.data_source.id"]).toBe("docs");
    expect(retrieve.attributes["tiergate.rag.outcome"]).toBe("ranked");
    expect(retrieve.attributes["tiergate.rag.passages"]).toBeGreaterThan(0);
    const vector = one(spans, services.pool, "tiergate.retrieve.vector");
    const keyword = one(spans, services.pool, "tiergate.retrieve.keyword");
    const embedding = one(spans, services.pool, /^embeddings /);
    for (const child of [vector, keyword, embedding]) expect(child.parentSpanId).toBe(retrieve.spanId);
    expect(embedding.attributes["gen_ai.operation.name"]).toBe("embeddings");
    const queries = spans.filter(
      (s) => s.service === services.pool && s.attributes["db.system.name"] === "clickhouse",
    );
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.some((q) => q.parentSpanId === vector.spanId)).toBe(true);
    expect(queries.every((q) => typeof q.attributes["db.query.text"] === "string")).toBe(true);
    const generation = one(spans, services.pool, /^chat /);
    expect(generation.parentSpanId).toBe(poolRoot.spanId);
    expect(generation.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
  });
  it("answers as usual while the collector is down (export fails in the background)", async () => {
    await jaegerService.stop();
    try {
      const client = clientTraceparent();
      const response = await chat(edgeUrl, client.traceparent, {
        messages: [{ role: "user", content: `Collector down? (${crypto.randomUUID()})` }],
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-cache")).toBe("MISS");
      const body = (await response.json()) as { choices: { message: { content: string } }[] };
      expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    } finally {
      await jaegerService.start();
    }
  });
});
