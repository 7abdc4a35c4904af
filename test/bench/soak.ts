/**
 * `npm run bench:soak`: memory over a long run. Starts an instant upstream, a Bun pool and the edge as
 * `npm start` serves it (the edge supervisor: deploy bundle in `workerd serve`), then sends a
 * fixed-rate open loop (default 300 req/s for 600 s; SOAK_RATE, SOAK_SECONDS) that mixes cache hits
 * over 64 prompts (70%), unique misses (20%) and malformed requests (10%: bad JSON, an out-of-range
 * field), sampling every process's RSS every 10 s. Prints the answers by status class (malformed ones
 * must be 4xx, nothing 5xx), why any got no answer, and each process's mean RSS after a one-minute
 * warm-up, at the middle and at the end of the run, and a flatness verdict per process: the
 * least-squares slope of its RSS over the second half, in MB per minute, is flat when at most
 * `max(0.5 MB, 0.5% of its mean RSS there)` per minute (a leak of a few KB per request at 300 req/s
 * grows far faster).
 *
 * Beside RSS, through workerd's inspector (soak-edge-probe.ts): the edge's used and committed JS heap
 * every 10 s, the JS heap after a forced full GC at 25%, 45% and after the load (SOAK_GC_AT) with the
 * same slope rule, descriptors and connections; SOAK_HEAP_SNAPSHOTS=1 adds two heap snapshots and what
 * grew between them. After the load: tcmalloc's counters before and after the last GC
 * (tcmalloc-stats.ts) and the edge's CPU per request. Requests go through a keep-alive client whose
 * idle timeout is below workerd's (keepalive-client.ts; SOAK_CLIENT=fetch for Bun's fetch);
 * SOAK_EDGE_V8_FLAGS replaces the supervisor's V8 flags. Writes `.stack/results/bench-soak.json` (the
 * samples included). Reports only.
 */

import { readFileSync } from "node:fs";
import { writeResults } from "../stack/paths.ts";
import { startPrivateEdge } from "../stack/private-edge.ts";
import { childProcesses, procStat, readPid, stopDaemon } from "../stack/process.ts";
import { createBenchKey, startBenchPool, startInstantUpstream } from "./backends.ts";
import { workerdKeepAliveMs } from "./keepalive-client.ts";
import { openLoop } from "./open-loop.ts";
import { startEdgeProbe } from "./soak-edge-probe.ts";
import { readTcmallocStats } from "./tcmalloc-stats.ts";

const upstreamPort = 8095;
const poolPort = 8096;
const edgePort = 8794;
const edgeMetricsPort = 8795;
const edgeInspectorPort = 8797;
/** SOAK_HEAP_SNAPSHOTS=1: two heap snapshots of the edge (30% and 90%) and what grew between them. */
const heapSnapshots = process.env.SOAK_HEAP_SNAPSHOTS === "1";
/**
 * Forced full GCs of the edge's isolate (JS heap after GC) at these fractions of the run (SOAK_GC_AT,
 * comma-separated; 1 is after the load). A full GC also shrinks V8's heap and frees the native memory
 * dead JS wrappers hold, so RSS dips after each one: none falls inside the second half, whose RSS
 * slope is the verdict (one there would bend it either way). The JS heap verdict takes the slope over
 * all the points.
 */
const gcAt = (process.env.SOAK_GC_AT ?? "0.25,0.45,1")
  .split(",")
  .map(Number)
  .filter((f) => f > 0 && f <= 1);
/**
 * The client's keep-alive idle timeout, a second below workerd's 5 s: Bun's fetch (SOAK_CLIENT=fetch)
 * keeps idle connections longer, and a request it sends on one just as workerd closes it is reset
 * unanswered (ECONNRESET), a race in the client, not a failure of the edge.
 */
const keepAliveIdleMs = process.env.SOAK_CLIENT === "fetch" ? undefined : workerdKeepAliveMs - 1_000;
const rate = Number(process.env.SOAK_RATE ?? 300);
const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const sampleEveryMs = 10_000;
const names = { upstream: "soak-instant", pool: "soak-pool", edge: "soak-edge" };
const runId = Date.now();

/** Request `i` of the mix: 14 of 20 repeat one of 64 prompts, 4 are unique, 2 are malformed. */
function body(i: number): string {
  const slot = i % 20;
  if (slot === 18) return '{"model":"small","messages":[{"role":"user","content":"unterminated';
  if (slot === 19)
    return JSON.stringify({ model: "small", temperature: 9, messages: [{ role: "user", content: "x" }] });
  const content = slot < 14 ? `soak question ${i % 64}` : `soak miss ${runId} ${i}`;
  return JSON.stringify({ model: "small", temperature: 0, messages: [{ role: "user", content }] });
}

/** The processes to watch: the edge supervisor and its workerd, the pool's supervisor and its children. */
function watched(): Record<string, number> {
  const out: Record<string, number> = {};
  const edge = readPid(names.edge);
  const pool = readPid(names.pool);
  if (edge !== undefined) {
    out["edge-supervisor"] = edge;
    const workerd = childProcesses(edge).find((child) => child.command.includes("workerd"));
    if (workerd) out.edge = workerd.pid;
  }
  if (pool === undefined) return out;
  out["pool-supervisor"] = pool;
  let worker = 0;
  for (const child of childProcesses(pool)) {
    out[child.command.includes("ingest.ts") ? "pool-ingest" : `pool-worker-${++worker}`] = child.pid;
  }
  return out;
}

/** CPU time (utime + stime) of `pid` in ms. */
function cpuMs(pid: number): number {
  const stat = procStat(pid);
  return ((Number(stat[11]) + Number(stat[12])) * 1000) / 100;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

/** Flat: the second half's RSS slope is at most this many MB per minute, or this share of its mean. */
const flatSlopeMbPerMin = 0.5;
const flatSlopeShare = 0.005;

/** Least-squares slope of `y` over `x` (0 for fewer than two points). */
function slope(points: { x: number; y: number }[]): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / points.length;
  const my = points.reduce((a, p) => a + p.y, 0) / points.length;
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

/**
 * A series' slope (MB per minute) from `from` seconds (default: the second half of the run) to the end,
 * and whether it counts as flat.
 */
function flatness(series: { at_s: number; mb: number }[], seconds: number, from = seconds / 2) {
  const pointsFrom = (start: number) =>
    series.filter((s) => s.at_s >= start && Number.isFinite(s.mb)).map((s) => ({ x: s.at_s / 60, y: s.mb }));
  const points = pointsFrom(from);
  const perMinute = slope(points);
  const meanMb = points.reduce((a, p) => a + p.y, 0) / Math.max(1, points.length);
  const thresholdMbPerMin = Math.max(flatSlopeMbPerMin, flatSlopeShare * meanMb);
  return {
    slope_second_half_mb_per_min: Math.round(perMinute * 1000) / 1000,
    // Not part of the verdict: whether the growth is slowing down.
    slope_last_quarter_mb_per_min: Math.round(slope(pointsFrom(seconds * 0.75)) * 1000) / 1000,
    threshold_mb_per_min: Math.round(thresholdMbPerMin * 1000) / 1000,
    flat: points.length >= 2 && perMinute <= thresholdMbPerMin,
  };
}

const mean = (values: number[]) =>
  Math.round((values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)) * 10) / 10;

async function main(): Promise<void> {
  await startInstantUpstream(names.upstream, upstreamPort);
  await startBenchPool({ name: names.pool, port: poolPort, upstreamPort, region: "soak" });
  const edge = await startPrivateEdge({
    name: names.edge,
    port: edgePort,
    metricsPort: edgeMetricsPort,
    bindings: { POOL_REGIONS: `soak=http://127.0.0.1:${poolPort}` },
    inspectorPort: edgeInspectorPort,
    // SOAK_EDGE_V8_FLAGS replaces the supervisor's V8 flags ("" for none, to compare).
    ...(process.env.SOAK_EDGE_V8_FLAGS !== undefined
      ? { v8Flags: process.env.SOAK_EDGE_V8_FLAGS.split(" ").filter(Boolean) }
      : {}),
  });
  const samples: { at_s: number; rss_mb: Record<string, number> }[] = [];
  try {
    const key = await createBenchKey("bench-soak");
    const processes = watched();
    const edgePid = processes.edge;
    if (edgePid === undefined) throw new Error("the edge's workerd is not running");
    const probe = await startEdgeProbe({
      pid: edgePid,
      port: edgePort,
      inspectorUrl: `ws://127.0.0.1:${edgeInspectorPort}/edge`,
      seconds,
      gcAt,
      snapshots: heapSnapshots,
      rssMb,
      wake: async () => {
        await (await fetch(`${edge.url}/health`, { signal: AbortSignal.timeout(1_000) })).arrayBuffer();
      },
      log: (line) => console.log(line),
    });
    const started = Date.now();
    const edgeCpuBefore = cpuMs(edgePid);
    const failuresAt: Record<string, number> = {};
    const serverErrors: Record<string, number> = {};
    const sample = () => {
      const rss: Record<string, number> = {};
      for (const [name, pid] of Object.entries(processes)) rss[name] = rssMb(pid);
      samples.push({ at_s: Math.round((Date.now() - started) / 1000), rss_mb: rss });
      probe.sample();
    };
    sample();
    const sampler = setInterval(sample, sampleEveryMs);
    console.log(
      `soak: ${rate} req/s for ${seconds} s against ${edge.url}, watching ${Object.keys(processes).join(", ")}`,
    );
    const result = await openLoop({
      url: `${edge.url}/v1/chat/completions`,
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        "accept-encoding": "identity",
      },
      body,
      rate,
      seconds,
      countHeader: "x-cache",
      ...(keepAliveIdleMs ? { keepAliveIdleMs } : {}),
      onAnswer: (i, status, header) => {
        if (status < 500) return;
        // Which layer answered 5xx: the edge's admission names itself in x-tiergate-shed.
        const key = `${status} ${header("x-tiergate-shed") ?? "-"} at ${Math.floor(i / rate)} s`;
        serverErrors[key] = (serverErrors[key] ?? 0) + 1;
      },
      onFailure: (i) => {
        const second = String(Math.floor(i / rate));
        failuresAt[second] = (failuresAt[second] ?? 0) + 1;
      },
    }).finally(() => clearInterval(sampler));
    sample();
    const edgeCpuMs = cpuMs(edgePid) - edgeCpuBefore;
    // After the load (so the pause of attaching gdb cannot disturb it): native memory in use by
    // workerd's allocator vs held by it, before and after the last full GC, then what RSS falls to
    // once tcmalloc returns its free pages.
    const allocator: Record<string, unknown> = {};
    const edgeProbe = await probe.stop(() => {
      allocator.rss_before_gc_mb = rssMb(edgePid);
      allocator.tcmalloc_before_gc = readTcmallocStats(edgePid);
    });
    allocator.rss_after_gc_mb = rssMb(edgePid);
    allocator.tcmalloc_after_gc = readTcmallocStats(edgePid);
    allocator.tcmalloc_after_release = readTcmallocStats(edgePid, true);
    allocator.rss_after_release_mb = rssMb(edgePid);
    // A workerd restart would also reset connections: the supervisor counts them.
    const metrics = await (await fetch(edge.metricsUrl)).text();
    const edgeRestarts = Number(/^tiergate_edge_restarts_total (\d+)/m.exec(metrics)?.[1] ?? Number.NaN);

    // Each process's mean RSS over a window after a one-minute warm-up, at the middle and at the end:
    // V8 heaps grow to a working size first, so "flat" is judged over the second half.
    const window = Math.max(10, Math.min(60, seconds * 0.1));
    const meanRss = (name: string, from: number) =>
      mean(
        samples
          .filter((s) => s.at_s >= from && s.at_s < from + window)
          .map((s) => s.rss_mb[name] ?? Number.NaN),
      );
    const warmup = Math.min(60, seconds * 0.1);
    const memory = Object.keys(processes).map((name) => {
      const afterWarmup = meanRss(name, warmup);
      const middle = meanRss(name, seconds / 2 - window);
      const end = meanRss(name, seconds - window);
      const pct = (from: number) => Math.round(((end - from) / from) * 1000) / 10;
      return {
        process: name,
        rss_after_warmup_mb: afterWarmup,
        rss_middle_mb: middle,
        rss_end_mb: end,
        growth_after_warmup_pct: pct(afterWarmup),
        growth_second_half_pct: pct(middle),
        ...flatness(
          samples.map((s) => ({ at_s: s.at_s, mb: s.rss_mb[name] ?? Number.NaN })),
          seconds,
        ),
      };
    });
    const summary = {
      rate,
      seconds,
      client: keepAliveIdleMs ? `node:http keep-alive, idle ${keepAliveIdleMs} ms` : "fetch",
      requests: Object.values(result.status_classes).reduce((a, b) => a + b, 0),
      status_classes: result.status_classes,
      status_counts: result.status_counts,
      failures: result.failures,
      edge_restarts: edgeRestarts,
      expected_4xx_share: 0.1,
      server_errors: result.status_classes["5xx"] ?? 0,
      server_errors_by_layer_and_second: serverErrors,
      cache: result.header_counts,
      p50_ms: result.p50_ms,
      p99_ms: result.p99_ms,
      // Includes the inspector's sampling (a heap read every 10 s, the GC points) and any other load.
      edge_cpu_ms_per_request: Math.round((edgeCpuMs / Math.max(1, rate * seconds)) * 1000) / 1000,
    };
    const limit = `<= max(${flatSlopeMbPerMin} MB, ${flatSlopeShare * 100}% of its mean) per minute`;
    const verdict = {
      flat: memory.every((m) => m.flat),
      rule: `RSS slope over the second half ${limit}, per process`,
    };
    // Beside the RSS verdict, not instead of it: what the edge's isolate retains after a full GC.
    const jsHeap = {
      gc_points: edgeProbe.gc_points,
      ...flatness(
        edgeProbe.gc_points.map((p) => ({ at_s: p.at_s, mb: p.js_heap_after_gc_mb })),
        seconds,
        edgeProbe.gc_points[0]?.at_s ?? seconds / 2,
      ),
      rule: `edge JS heap after a forced full GC: slope over all the points ${limit}`,
    };
    console.table([summary]);
    console.log("failures by second of the run:", JSON.stringify(failuresAt));
    console.table(memory);
    console.table(edgeProbe.gc_points);
    console.log(`memory flat over the second half: ${verdict.flat} (${verdict.rule})`);
    console.log(`edge JS heap after GC flat: ${jsHeap.flat} (${jsHeap.slope_second_half_mb_per_min} MB/min)`);
    if (edgeProbe.heap_growth) console.table(edgeProbe.heap_growth.top);
    console.log("edge allocator after the load:", JSON.stringify(allocator));
    console.log(
      `wrote ${writeResults("bench-soak", {
        ...summary,
        failures_by_second: failuresAt,
        memory,
        memory_verdict: verdict,
        edge_js_heap: jsHeap,
        edge_heap_growth: edgeProbe.heap_growth,
        edge_allocator: allocator,
        samples,
        edge_samples: edgeProbe.samples,
      })}`,
    );
  } finally {
    await edge.stop();
    await stopDaemon(names.pool, 10_000);
    await stopDaemon(names.upstream, 5_000);
  }
}

await main();
