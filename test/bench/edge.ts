/**
 * `npm run bench:edge`: what the edge adds on loopback. Starts an instant OpenAI-compatible upstream,
 * a separate Bun pool routed to it (REGISTRY_SOURCE=env), the edge bundled by wrangler and served by
 * `workerd serve` (workerd-serve.ts) in front of that pool, and Portkey's gateway in front of the same
 * upstream, and the LiteLLM proxy (edge-peers.ts, litellm.ts; installed into a venv under `.stack` on
 * first run); then measures p50/p99/RPS for each at one connection, at a fixed 1,000 req/s open loop
 * (evenly spaced arrivals, open-loop.ts) and at saturation (50 connections, closed-loop.ts; the same
 * Bun fetch client for every target, counting `x-cache` so a hit row shows it hit).
 *
 * Two hit rows: `hit` with the default config (a hot entry comes from the isolate's memory tier) and
 * `hit-redis` from a second edge with the memory tier off, so every hit reads Redis. It prints the
 * comparisons the targets name: what a Redis hit adds to one Redis round trip, what a miss adds to
 * calling the upstream directly (both p99 at 1,000 req/s), and throughput at saturation against
 * Portkey and LiteLLM. `BENCH_ROWS=peers` keeps only the rows the peer comparisons need (Redis round
 * trip, upstream direct, hit, miss, the peers).
 */

import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { localEdgeEnv } from "../stack/local-env.ts";
import { repoRoot, writeResults } from "../stack/paths.ts";
import { localSecrets, ports } from "../stack/ports.ts";
import { spawnDaemon, stopDaemon, tcpOpen, waitFor } from "../stack/process.ts";
import { createBenchKey, startBenchPool, startInstantUpstream } from "./backends.ts";
import { closedLoop } from "./closed-loop.ts";
import { cpuComparisons, type MeasureOptions, measurePeerRows, peerComparisons } from "./edge-peers.ts";
import { measureTracingRows, tracingCost } from "./edge-tracing.ts";
import { openLoop } from "./open-loop.ts";
import {
  type CpuUse,
  cpuSnapshot,
  cpuUse,
  daemonTree,
  type ProcessGroups,
  pinAlone,
  unpin,
} from "./process-cpu.ts";
import { createMeteredBenchKey } from "./spend-key.ts";
import { bundleEdge, serveEdgeInWorkerd } from "./workerd-serve.ts";

const upstreamPort = 8091;
const poolPort = 8090;
const edgePort = 8798;
const redisOnlyEdgePort = 8797;
const portkeyPort = 8799;
const litellmPort = 8092;
const peersOnly = process.env.BENCH_ROWS === "peers";
const durationSeconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = 50;
const fixedRate = 1_000;
const runId = Date.now();
/** `BENCH_PIN=1`: each saturation row runs with the gateway under test alone on one core. */
const pinned = process.env.BENCH_PIN === "1";

const edgeNames = ["bench-edge", "bench-edge-redis", "bench-edge-trace-0", "bench-edge-trace-1"];
/** Every process a row can keep busy, by role; the bench process itself is the load generator. */
const groups: ProcessGroups = {
  edge: () => edgeNames.flatMap((name) => daemonTree(name)()),
  pool: daemonTree("bench-pool"),
  "upstash-bridge": daemonTree("upstash-bridge"),
  redis: daemonTree("redis"),
  upstream: daemonTree("bench-instant"),
  portkey: daemonTree("bench-portkey"),
  litellm: () => [...daemonTree("bench-litellm")(), ...daemonTree("bench-litellm-cache")()],
  generator: () => [process.pid],
  "other-stack": () =>
    ["postgres", "neon-proxy", "kafka", "clickhouse", "model-server"].flatMap((name) => daemonTree(name)()),
};

/** The gateway under test in a row: its processes get the core to themselves when pinned. */
function gatewayOf(row: string): string[] {
  if (row.startsWith("portkey")) return ["portkey"];
  if (row.startsWith("litellm")) return ["litellm"];
  if (row.startsWith("upstream") || row.startsWith("redis")) return [];
  return ["edge"];
}

interface Row {
  name: string;
  concurrency: number;
  p50_ms: number;
  p99_ms: number;
  /** 2xx answers per second: every throughput comparison uses this (a fast 503 is not throughput). */
  rps: number;
  /** Answers of any status per second (differs from `rps` when the edge shed load). */
  answered_rps?: number;
  mode: "one-connection" | "fixed-1000rps" | "saturation" | "sequential";
  non2xx: number;
  /** Share of answers from a cache (the edge's `x-cache: HIT`, or the peer's own cache header). */
  hit_share?: number;
  /** Answers by status class (`2xx`, `5xx`, …, `failed` when no answer came), so a non-2xx count says what it was. */
  status_classes?: Record<string, number>;
  /** Why requests got no answer, with counts (only when some did not). */
  failures?: Record<string, number>;
  /** Saturation rows: CPU per request and cores used, per process group. */
  cpu?: CpuUse;
  /** Saturation rows with `BENCH_PIN=1`: the groups that had the last core to themselves. */
  pinned_alone?: string[];
}
const rows: Row[] = [];

const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;

async function startBackends(): Promise<void> {
  // A run killed before its cleanup leaves these behind; they would share the ports with the new ones.
  await stopDaemon("bench-portkey", 5_000);
  await startInstantUpstream("bench-instant", upstreamPort);
  await startBenchPool({ name: "bench-pool", port: poolPort, upstreamPort, region: "bench" });
  spawnDaemon({
    name: "bench-portkey",
    command: "node",
    args: [
      join(repoRoot, "node_modules/@portkey-ai/gateway/build/start-server.js"),
      `--port=${portkeyPort}`,
      "--headless",
    ],
    cwd: repoRoot,
  });
  await waitFor("bench-portkey", () => tcpOpen(portkeyPort), 30_000);
}

/**
 * Waits until the target answers five requests in a row within 250 ms each (at most 60 s): a target that fell behind
 * in a run (the fixed rate above its capacity) keeps serving requests the client already gave up on,
 * and the next run would measure that backlog instead of the target.
 */
async function settle(url: string, headers: Record<string, string>, body: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let fast = 0;
  while (fast < 5 && Date.now() < deadline) {
    const started = performance.now();
    const answered = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) })
      .then((r) => r.arrayBuffer())
      .then(
        () => true,
        () => false,
      );
    fast = answered && performance.now() - started < 250 ? fast + 1 : 0;
  }
}

async function measure(name: string, options: MeasureOptions): Promise<void> {
  const cacheHeader = options.cacheHeader ?? { name: "x-cache", hit: (value: string) => value === "HIT" };
  for (const mode of ["one-connection", "fixed-1000rps", "saturation"] as const) {
    const body = (i: number) =>
      options.idReplacement ? options.body.replace("[<id>]", `${mode}-${i}-${runId}`) : options.body;
    // Uncompressed answers from every target (on Cloudflare, compression is the edge's work, not the
    // Worker's; Portkey and the upstream never compress).
    const headers = { ...options.headers, "accept-encoding": "identity" };
    const load = { url: options.url, headers, body, countHeader: cacheHeader.name };
    const saturation = mode === "saturation";
    const alone = saturation && pinned ? gatewayOf(name) : [];
    if (alone.length > 0) pinAlone(groups, alone);
    const before = cpuSnapshot(groups);
    const started = performance.now();
    const result =
      mode === "fixed-1000rps"
        ? await openLoop({ ...load, rate: fixedRate, seconds: durationSeconds })
        : await closedLoop({
            ...load,
            connections: mode === "one-connection" ? 1 : connections,
            seconds: durationSeconds,
          }).finally(() => {
            if (alone.length > 0) unpin(groups);
          });
    const cpu = cpuUse({
      before,
      after: cpuSnapshot(groups),
      // Per 2xx answer: what refused requests cost is charged to the served ones.
      requests: result.status_classes["2xx"] ?? 0,
      seconds: (performance.now() - started) / 1000,
    });
    const counts = Object.entries(result.header_counts);
    const answered = counts.reduce((sum, [, n]) => sum + n, 0);
    const hits = counts.reduce((sum, [value, n]) => sum + (cacheHeader.hit(value) ? n : 0), 0);
    rows.push({
      name: mode === "fixed-1000rps" ? name : `${name}-${mode === "saturation" ? "saturation" : "c1"}`,
      concurrency: mode === "one-connection" ? 1 : connections,
      p50_ms: result.p50_ms,
      p99_ms: result.p99_ms,
      rps: result.ok_rps,
      ...(result.ok_rps !== result.rps ? { answered_rps: result.rps } : {}),
      mode,
      non2xx: result.non2xx,
      hit_share: Math.round((hits / Math.max(1, answered)) * 1000) / 1000,
      status_classes: result.status_classes,
      ...(Object.keys(result.failures).length > 0 ? { failures: result.failures } : {}),
      ...(saturation ? { cpu } : {}),
      ...(alone.length > 0 ? { pinned_alone: alone } : {}),
    });
    const cpuText = saturation ? `, CPU µs/request ${JSON.stringify(cpu.us_per_request)}` : "";
    console.log(
      `  ${name} ${mode}: p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ${result.ok_rps} 2xx/s${result.ok_rps !== result.rps ? ` (${result.rps} answered/s)` : ""}${cpuText}`,
    );
    await settle(options.url, headers, body(0));
  }
}

async function redisRoundTrip(): Promise<void> {
  const redis = new Redis({
    url: `http://127.0.0.1:${ports.upstashBridge}`,
    token: localSecrets.upstashToken,
    automaticDeserialization: false,
    enableTelemetry: false,
  });
  await redis.set("tg:bench:rtt", "x");
  const samples: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    const started = performance.now();
    await redis.get("tg:bench:rtt");
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => Number((samples[Math.floor(q * (samples.length - 1))] ?? 0).toFixed(2));
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  rows.push({
    name: "redis-rtt",
    concurrency: 1,
    p50_ms: at(0.5),
    p99_ms: at(0.99),
    rps: Math.round(1000 / mean),
    mode: "sequential",
    non2xx: 0,
  });
}

const chat = (content: string) =>
  JSON.stringify({ model: "small", temperature: 0, messages: [{ role: "user", content }] });

/** `hit-redis` (a second edge with the memory tier off) and the 10k-character hits with and without guardrails. */
async function measureHitVariants(options: {
  bindings: Record<string, string>;
  auth: Record<string, string>;
  edgeChat: string;
  hitBody: string;
}): Promise<void> {
  const { auth, edgeChat, hitBody } = options;
  const redisOnlyEdge = await serveEdgeInWorkerd({
    name: "bench-edge-redis",
    port: redisOnlyEdgePort,
    bindings: { ...options.bindings, CACHE_MEMORY_TTL_MS: "0" },
  });
  try {
    await measure("hit-redis", {
      url: `${redisOnlyEdge.url}/v1/chat/completions`,
      headers: auth,
      body: hitBody,
    });
  } finally {
    await redisOnlyEdge.stop();
  }
  // Guardrails on a 10k-character prompt: the same hit without and with every detector (log mode),
  // injection heuristics and output scanning, turned on by the request header.
  const longBody = chat("Please summarise the quarterly notes. ".repeat(270).slice(0, 10_000));
  await fetch(edgeChat, { method: "POST", headers: auth, body: longBody }).then((r) => r.arrayBuffer());
  await measure("hit-10k", { url: edgeChat, headers: auth, body: longBody });
  const guardrailsOn =
    "email=log,phone=log,card=log,iban=log,ssn=log,ip=log,secret=log,injection=log,output=on";
  await measure("hit-10k-guardrails", {
    url: edgeChat,
    headers: { ...auth, "x-tiergate-guardrails": guardrailsOn },
    body: longBody,
  });
}

/** The hit and miss with budgets (key and tenant) and a token limit on: each miss reserves and settles. */
async function measureBudgetRows(
  edgeChat: string,
  auth: Record<string, string>,
  hitBody: string,
): Promise<void> {
  const metered = {
    ...auth,
    authorization: `Bearer ${await createMeteredBenchKey(`bench-spend-${runId}`)}`,
  };
  await fetch(edgeChat, { method: "POST", headers: metered, body: hitBody }).then((r) => r.arrayBuffer());
  await measure("hit-budgets", { url: edgeChat, headers: metered, body: hitBody });
  await measure("miss-budgets", {
    url: edgeChat,
    headers: metered,
    body: chat("metered miss [<id>]"),
    idReplacement: true,
  });
}

async function main(): Promise<void> {
  console.log("starting the instant upstream, a bench pool, the edge (workerd serve) and Portkey …");
  await startBackends();
  bundleEdge();
  const bindings = {
    ...localEdgeEnv(),
    POOL_REGIONS: `bench=http://127.0.0.1:${poolPort}`,
    CACHE_DEADLINE_MS: process.env.BENCH_CACHE_DEADLINE_MS ?? "10",
  };
  const edge = await serveEdgeInWorkerd({ name: "bench-edge", port: edgePort, bindings });
  try {
    const key = await createBenchKey("bench-edge");
    const auth = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const edgeChat = `${edge.url}/v1/chat/completions`;

    await redisRoundTrip();
    await measure("upstream-direct", {
      url: `${upstreamUrl}/v1/chat/completions`,
      headers: { "content-type": "application/json" },
      body: chat("direct"),
    });

    const hitBody = chat("the cached question");
    for (let i = 0; i < 50; i++) {
      const response = await fetch(edgeChat, { method: "POST", headers: auth, body: hitBody });
      const status = response.headers.get("x-cache");
      await response.arrayBuffer();
      if (status === "HIT") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await measure("hit", { url: edgeChat, headers: auth, body: hitBody });
    if (!peersOnly) await measureHitVariants({ bindings, auth, edgeChat, hitBody });
    // Every request unique ([<id>] is replaced per request): a real miss, lookup + pool + cache write.
    await measure("miss", { url: edgeChat, headers: auth, body: chat("miss [<id>]"), idReplacement: true });
    if (!peersOnly) {
      await measureTracingRows({ bindings, headers: auth, hitBody, missBody: chat("miss [<id>]"), measure });
      await measureBudgetRows(edgeChat, auth, hitBody);
    }
    await measurePeerRows({ upstreamUrl, portkeyPort, litellmPort, chat, measure });
  } finally {
    await edge.stop();
    for (const name of [
      "bench-portkey",
      "bench-litellm",
      "bench-litellm-cache",
      "bench-pool",
      "bench-instant",
    ])
      await stopDaemon(name, 10_000);
  }

  console.table(
    rows.map(
      ({ status_classes: _classes, failures: _failures, cpu: _cpu, pinned_alone: _alone, ...row }) => row,
    ),
  );
  for (const row of rows.filter((r) => r.non2xx > 0))
    console.log(`${row.name}: ${JSON.stringify(row.status_classes)} ${JSON.stringify(row.failures ?? {})}`);
  const find = (name: string) => rows.find((row) => row.name === name);
  const round = (n: number) => Math.round(n * 100) / 100;
  const comparisons = {
    hit_redis_p99_over_redis_rtt_p99_ms: round(
      (find("hit-redis")?.p99_ms ?? 0) - (find("redis-rtt")?.p99_ms ?? 0),
    ),
    hit_p99_over_redis_rtt_p99_ms: round((find("hit")?.p99_ms ?? 0) - (find("redis-rtt")?.p99_ms ?? 0)),
    miss_p99_over_direct_p99_ms: round((find("miss")?.p99_ms ?? 0) - (find("upstream-direct")?.p99_ms ?? 0)),
    // Added edge time of the guardrails on a 10k-character prompt (target: <= 1 ms): the p50 difference
    // on one connection, and the per-request cost implied by saturation throughput.
    guardrails_10k_added_p50_c1_ms: round(
      (find("hit-10k-guardrails-c1")?.p50_ms ?? 0) - (find("hit-10k-c1")?.p50_ms ?? 0),
    ),
    guardrails_10k_added_ms_per_request_saturation: round(
      1000 / Math.max(1, find("hit-10k-guardrails-saturation")?.rps ?? 0) -
        1000 / Math.max(1, find("hit-10k-saturation")?.rps ?? 0),
    ),
    ...tracingCost(find, round),
    // Saturation throughput against Portkey and LiteLLM, each with its cache off and on.
    ...peerComparisons(find, round),
    miss_budgets_p99_over_miss_p99_ms: round(
      (find("miss-budgets")?.p99_ms ?? 0) - (find("miss")?.p99_ms ?? 0),
    ),
  };
  const reported = peersOnly
    ? {
        hit_p99_over_redis_rtt_p99_ms: comparisons.hit_p99_over_redis_rtt_p99_ms,
        miss_p99_over_direct_p99_ms: comparisons.miss_p99_over_direct_p99_ms,
        ...peerComparisons(find, round),
        ...cpuComparisons(find, round),
      }
    : { ...comparisons, ...cpuComparisons(find, round) };
  console.log("comparisons (targets: hit < 2 ms, miss < 3 ms, throughput >= 1.5x):", reported);
  console.log("against the peers (saturation throughput ratios):", peerComparisons(find, round));
  console.log("CPU per request at saturation and per-core ratios:", cpuComparisons(find, round));
  console.log(`wrote ${writeResults("bench-edge", { rows, comparisons: reported })}`);
}

await main();
