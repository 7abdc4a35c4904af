/**
 * `npm run bench:overload`: does the edge shed instead of falling over? The edge is served as `npm
 * start` serves it (the edge supervisor: deploy bundle in `workerd serve`, fd limit raised, admission
 * control on) in front of a bench pool (production MAX_IN_FLIGHT) and the instant upstream. It measures
 * miss saturation (closed loop, 32 connections), then runs an open loop at 2x that rate for 30 s with
 * a 5 s deadline per request, every request a unique miss. Writes `.stack/results/bench-overload.json`:
 * - alive_after: the edge and the pool still serve, and no process of theirs was restarted;
 * - answered_share: 2xx or 503 (shed, Retry-After) within the deadline, of all sent;
 * - goodput_rps: 2xx per second; p99_ok_ms: p99 of the 2xx answers;
 * and the targets (answered_share >= 0.99, goodput >= 0.8x saturation, p99_ok <= 2x saturation p99).
 */

import { writeResults } from "../stack/paths.ts";
import { startPrivateEdge } from "../stack/private-edge.ts";
import { childProcesses, procStat, readPid, stopDaemon } from "../stack/process.ts";
import { createBenchKey, startBenchPool, startInstantUpstream } from "./backends.ts";
import { closedLoop } from "./closed-loop.ts";
import { openLoop } from "./open-loop.ts";

const upstreamPort = 8101;
const poolPort = 8102;
const edgePort = 8792;
const edgeMetricsPort = 8793;
const saturationSeconds = Number(process.env.SATURATION_SECONDS ?? 8);
const overloadSeconds = Number(process.env.OVERLOAD_SECONDS ?? 30);
const overloadFactor = Number(process.env.OVERLOAD_FACTOR ?? 2);
const deadlineMs = 5_000;
/**
 * Connections of the saturation run: the edge's forward-limit floor (EDGE_MIN_CONCURRENCY, 32), so
 * nothing is shed while capacity is measured. With more, a closed loop turns each shed request into
 * an immediate new one, a spin of 503s that eats the CPU being measured (seen at 50: a third shed).
 */
const saturationConnections = 32;
const names = { upstream: "overload-instant", pool: "overload-pool", edge: "overload-edge" };
const runId = Date.now();
/**
 * Bun's fetch sends at most 256 requests at once (BUN_CONFIG_MAX_HTTP_REQUESTS) and queues the rest
 * inside the generator, which turns the open loop into a closed one of 256 and counts the generator's
 * own queue as the gateway's latency. The generator runs with the cap raised to Bun's maximum; the
 * processes it starts keep the production default.
 */
const generatorFetchCap = "65535";
const productionFetchCap = "256";

async function ok(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
    (response) => response.ok,
    () => false,
  );
}

async function edgeRestarts(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split("\n").find((l) => l.startsWith("tiergate_edge_restarts_total "));
  return Number(line?.split(" ")[1] ?? Number.NaN);
}

/** The pids of the pool supervisor's children and of the edge's workerd (a restart changes them). */
function processIds(): number[] {
  const pool = childProcesses(readPid(names.pool) ?? -1).map((c) => c.pid);
  const edge = childProcesses(readPid(names.edge) ?? -1).map((c) => c.pid);
  return [...pool, ...edge].sort((a, b) => a - b);
}

/** utime + stime in seconds per watched process (a process that ended counts 0). */
function cpuSeconds(): Record<string, number> {
  const watched: Record<string, number[]> = {
    edge_workerd: childProcesses(readPid(names.edge) ?? -1).map((c) => c.pid),
    pool_workers: childProcesses(readPid(names.pool) ?? -1).map((c) => c.pid),
    upstream: [readPid(names.upstream) ?? -1],
    redis_bridge: [readPid("upstash-bridge") ?? -1],
    load_generator: [process.pid],
  };
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(watched)) {
    out[name] = pids.reduce((sum, pid) => {
      try {
        const fields = procStat(pid);
        return sum + (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        return sum;
      }
    }, 0);
  }
  return out;
}

/** Cores each watched process used since `before` (a `cpuSeconds()` reading) over `seconds`. */
function coresSince(before: Record<string, number>, seconds: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(cpuSeconds()).map(([name, after]) => [
      name,
      Number(((after - (before[name] ?? 0)) / seconds).toFixed(2)),
    ]),
  );
}

async function main(): Promise<void> {
  console.log("starting the instant upstream, a bench pool and the edge as npm start serves it …");
  await startInstantUpstream(names.upstream, upstreamPort);
  await startBenchPool({
    name: names.pool,
    port: poolPort,
    upstreamPort,
    region: "overload",
    env: { MAX_IN_FLIGHT: "256", BUN_CONFIG_MAX_HTTP_REQUESTS: productionFetchCap },
  });
  const edge = await startPrivateEdge({
    name: names.edge,
    port: edgePort,
    metricsPort: edgeMetricsPort,
    bindings: { POOL_REGIONS: `overload=http://127.0.0.1:${poolPort}`, CACHE_DEADLINE_MS: "10" },
  });
  try {
    const key = await createBenchKey("bench-overload");
    const load = (phase: string) => ({
      url: `${edge.url}/v1/chat/completions`,
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        "accept-encoding": "identity",
      },
      body: (i: number) =>
        JSON.stringify({
          model: "small",
          temperature: 0,
          messages: [{ role: "user", content: `overload ${phase}-${i}-${runId}` }],
        }),
      timeoutMs: deadlineMs,
      countHeader: "x-tiergate-shed",
      splitTimes: true,
    });
    const cpuBeforeSaturation = cpuSeconds();
    const saturation = await closedLoop({
      ...load("sat"),
      connections: saturationConnections,
      seconds: saturationSeconds,
    });
    const saturationCores = coresSince(cpuBeforeSaturation, saturationSeconds);
    console.log(
      `  miss saturation: ${saturation.rps} req/s, p99 ${saturation.p99_ms} ms`,
      saturation.status_classes,
    );
    const answered = Object.values(saturation.status_counts).reduce((a, b) => a + b, 0);
    const saturationOk = Object.entries(saturation.status_counts)
      .filter(([status]) => status.startsWith("2"))
      .reduce((sum, [, n]) => sum + n, 0);
    // Saturation throughput counts 2xx answers only (a shed 503 is not throughput).
    const saturationRps = Math.round((saturation.rps * saturationOk) / Math.max(1, answered));
    const rate = Math.max(1, Math.round(saturationRps * overloadFactor));
    const before = { restarts: await edgeRestarts(edge.metricsUrl), pids: processIds() };
    console.log(`  open loop at ${rate} req/s for ${overloadSeconds} s …`);
    const cpuBefore = cpuSeconds();
    const overload = await openLoop({ ...load("over"), rate, seconds: overloadSeconds });
    // Cores each process used during the overload run (2 on this machine, shared with others).
    const coresUsed = coresSince(cpuBefore, overloadSeconds);
    const sent = rate * overloadSeconds;
    const count = (status: string) => overload.status_counts[status] ?? 0;
    const ok2xx = Object.entries(overload.status_counts)
      .filter(([status]) => status.startsWith("2"))
      .reduce((sum, [, n]) => sum + n, 0);
    const answeredShare = (ok2xx + count("503")) / sent;
    const goodput = ok2xx / overloadSeconds;
    const afterRestarts = await edgeRestarts(edge.metricsUrl);
    const aliveAfter =
      (await ok(`${edge.url}/health`)) &&
      (await ok(`http://127.0.0.1:${poolPort}/ready`)) &&
      afterRestarts === before.restarts &&
      JSON.stringify(processIds()) === JSON.stringify(before.pids);
    const result = {
      caveat: "2 shared cores: generator, edge, pool and upstream share them with other work",
      saturation: {
        rps: saturationRps,
        p50_ms: saturation.p50_ms,
        p99_ms: saturation.p99_ms,
        status_counts: saturation.status_counts,
        time_split: saturation.time_split,
        cores_used: saturationCores,
      },
      overload: {
        rate_rps: rate,
        seconds: overloadSeconds,
        sent,
        deadline_ms: deadlineMs,
        status_counts: overload.status_counts,
        shed_by_layer: overload.header_counts,
        failures: overload.failures,
        p50_ms: overload.p50_ms,
        p99_ms: overload.p99_ms,
        send_lag_ms: overload.send_lag_ms,
        time_split: overload.time_split,
        cores_used: coresUsed,
      },
      alive_after: aliveAfter,
      answered_share: Number(answeredShare.toFixed(4)),
      goodput_rps: Math.round(goodput),
      p99_ok_ms: overload.p99_ok_ms,
      targets: {
        alive: aliveAfter,
        answered_share_ge_0_99: answeredShare >= 0.99,
        goodput_ge_0_8x_saturation: goodput >= 0.8 * saturationRps,
        p99_ok_le_2x_saturation_p99: overload.p99_ok_ms <= 2 * saturation.p99_ms,
      },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`wrote ${writeResults("bench-overload", result)}`);
  } finally {
    await edge.stop();
    for (const name of [names.pool, names.upstream]) await stopDaemon(name, 10_000);
  }
}

/** Runs this script again with the generator's fetch cap raised (read only at Bun's start). */
function rerunWithFetchCap(): Promise<number> {
  const child = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: generatorFetchCap },
    stdio: ["inherit", "inherit", "inherit"],
  });
  return child.exited;
}

if (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS !== generatorFetchCap) {
  process.exit(await rerunWithFetchCap());
}
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
