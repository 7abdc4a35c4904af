/**
 * bench:routing — the router's own overhead and its failover time, against an instant upstream
 * (test/bench/instant-upstream.ts, answers at once) on loopback.
 *
 * 1. Overhead: the same chat call made with the bare `openai` SDK and through `Router.complete`
 *    (explicit tier; and `auto` with the heuristic classifier), at concurrency 1, 16 and 100. The
 *    router's overhead is the difference of the latency percentiles.
 * 2. Failover: a tier with a preferred endpoint behind the fault proxy and a healthy one. The
 *    preferred endpoint dies (connection refused, or hangs past the 250 ms tier timeout); we time the
 *    first request after the death (fresh router each trial) and requests once the breaker is open.
 *
 * Prints a table and writes .stack/results/bench-routing.json. Bounded: a few thousand requests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import OpenAI from "openai";
import type { EndpointSpec } from "../../workers/providers/types.ts";
import { defaultTiers, type RoutingTable } from "../../workers/registry/types.ts";
import { defaultBalancerOptions } from "../../workers/router/balancer.ts";
import { Router } from "../../workers/router/router.ts";
import { startFaultProxy } from "../stack/fault-proxy/client.ts";
import { repoRoot, writeResults } from "../stack/paths.ts";

const upstreamPort = 18_095;
const upstreamRoot = `http://127.0.0.1:${upstreamPort}`;

async function startInstantUpstream(): Promise<ChildProcess> {
  const child = spawn(
    join(repoRoot, "node_modules/.bin/bun"),
    [join(repoRoot, "test/bench/instant-upstream.ts"), String(upstreamPort)],
    {
      stdio: "ignore",
    },
  );
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${upstreamRoot}/v1/models`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    await Bun.sleep(50);
  }
  throw new Error("instant upstream did not start");
}

const endpoint = (id: string, root: string, weight: number): EndpointSpec => ({
  id,
  provider: "openai-compatible",
  baseURL: `${root}/v1`,
  apiKey: "bench",
  model: "instant",
  weight,
  metricsURL: "",
  completions: false,
});

function table(endpoints: EndpointSpec[], timeoutMs = 5_000): RoutingTable {
  return {
    source: "env",
    tiers: defaultTiers
      .filter((t) => t.kind === "chat")
      .map((t) => ({
        ...t,
        budgetMs: 50,
        timeoutMs,
        versionId: t.name,
        version: `${t.name}@bench`,
        endpoints,
      })),
  };
}

function router(t: RoutingTable): Router {
  return new Router(() => t, {
    confidenceThreshold: 0.6,
    classifier: "heuristic",
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    balancer: { ...defaultBalancerOptions, failureThreshold: 3, cooldownMs: 60_000 },
  });
}

const ctx = () => ({
  requestId: "bench",
  deadline: Date.now() + 30_000,
  signal: new AbortController().signal,
});
const messages = [{ role: "user" as const, content: "Say ok" }];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(concurrency: number, total: number, call: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      const t0 = performance.now();
      await call();
      samples.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return samples.sort((a, b) => a - b);
}

const round = (n: number) => Math.round(n * 1000) / 1000;
const upstream = await startInstantUpstream();
const proxy = await startFaultProxy(upstreamRoot);
try {
  const sdk = new OpenAI({ baseURL: `${upstreamRoot}/v1`, apiKey: "bench", maxRetries: 0 });
  const direct = router(table([endpoint("direct", upstreamRoot, 1)]));
  const overhead: Record<string, unknown>[] = [];
  for (const concurrency of [1, 16, 100]) {
    const total = concurrency === 1 ? 1_000 : 3_000;
    // Warm both paths (connections, JIT) before measuring.
    await measure(concurrency, 200, () => sdk.chat.completions.create({ model: "instant", messages }));
    await measure(concurrency, 200, () => direct.complete({ model: "medium", messages }, ctx()));
    const bare = await measure(concurrency, total, () =>
      sdk.chat.completions.create({ model: "instant", messages }),
    );
    const tier = await measure(concurrency, total, () =>
      direct.complete({ model: "medium", messages }, ctx()),
    );
    const auto = await measure(concurrency, total, () => direct.complete({ model: "auto", messages }, ctx()));
    for (const [mode, samples] of [
      ["tier", tier],
      ["auto (heuristic)", auto],
    ] as const) {
      overhead.push({
        concurrency,
        mode,
        requests: total,
        sdk_p50_ms: round(percentile(bare, 50)),
        sdk_p99_ms: round(percentile(bare, 99)),
        router_p50_ms: round(percentile(samples, 50)),
        router_p99_ms: round(percentile(samples, 99)),
        overhead_p50_ms: round(percentile(samples, 50) - percentile(bare, 50)),
        overhead_p99_ms: round(percentile(samples, 99) - percentile(bare, 99)),
      });
    }
  }

  const failover: Record<string, unknown>[] = [];
  const trials = 30;
  for (const [death, fault] of [
    ["connection refused", { mode: "refuse" }],
    ["hangs (tier timeout 250 ms)", { mode: "delay", ms: 5_000 }],
  ] as const) {
    const first: number[] = [];
    let afterOpen: number[] = [];
    for (let trial = 0; trial < trials; trial++) {
      await proxy.set({ mode: "pass" });
      const t = table([endpoint("preferred", proxy.url, 1_000), endpoint("spare", upstreamRoot, 0.001)], 250);
      const r = router(t);
      for (let i = 0; i < 5; i++) await r.complete({ model: "medium", messages }, ctx()); // healthy, warm
      await proxy.set(fault);
      const t0 = performance.now();
      const result = await r.complete({ model: "medium", messages }, ctx());
      first.push(performance.now() - t0);
      if (result.served.endpoint !== "spare") throw new Error("failover did not happen");
      if (trial === 0) {
        for (let i = 0; i < 3; i++) await r.complete({ model: "medium", messages }, ctx()); // opens the breaker
        afterOpen = await measure(1, 200, () => r.complete({ model: "medium", messages }, ctx()));
      }
    }
    first.sort((a, b) => a - b);
    failover.push({
      death,
      trials,
      first_request_p50_ms: round(percentile(first, 50)),
      first_request_p99_ms: round(percentile(first, 99)),
      breaker_open_p50_ms: round(percentile(afterOpen, 50)),
      breaker_open_p99_ms: round(percentile(afterOpen, 99)),
    });
  }
  await proxy.set({ mode: "pass" });

  console.log("\nRouter overhead vs the bare openai SDK (instant upstream, loopback)");
  console.table(overhead);
  console.log("Failover when the preferred endpoint dies (fresh router per trial)");
  console.table(failover);
  const results = {
    bench: "routing",
    runtime: `bun ${Bun.version}`,
    at: new Date().toISOString(),
    overhead,
    failover,
  };
  console.log(`wrote ${writeResults("bench-routing", results)}`);
} finally {
  await proxy.stop();
  upstream.kill("SIGTERM");
}
