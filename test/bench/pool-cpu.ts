/**
 * `npm run bench:pool-cpu -- [requests]`: the pool's CPU time per proxied chat completion (cache miss:
 * edge → pool → instant upstream). Starts its own instant upstream, pool and edge (workerd serve) on
 * ports of their own, sends unique `temperature: 0` requests over a few connections and reads the pool
 * workers' CPU (utime + stime from /proc) before and after. CPU per request does not depend on what else
 * the machine runs, so it needs no bench lock.
 *
 * `DIRECT=1` leaves the edge out: the load client signs its calls to the pool itself, as the edge does
 * (less noise on a busy machine, since the edge's own CPU is not competing).
 *
 * `PROFILE_DIR=…` runs one worker (`bun --cpu-prof --cpu-prof-md workers/pool/worker.ts`) instead of the
 * supervisor and leaves its profile there when it stops; `EDGE_PROFILE_DIR=…` opens workerd's inspector
 * and writes the edge's CPU profile of the measured requests there (`edge.cpuprofile`).
 *
 * `UNCACHED=1` sends `temperature: 1`, which the edge never caches: no Redis read or write on the edge,
 * so the difference to a normal run is what the response cache costs a miss. `WARMUP=n` (default 800)
 * sets the warm-up requests.
 *
 * `RUNS=n` (default 3) measures n batches of `requests` after one warm-up and reports each and the
 * median per process; `redis_commands_per_request` counts the Redis commands (INFO commandstats) the
 * batch caused, every one an HTTP call to the Upstash bridge or a RESP command from the pool.
 * Writes `.stack/results/bench-pool-cpu.json`.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RedisClient } from "bun";
import { formatAllowedModels, formatSignatureHeader, trafficCredential } from "../../shared/signing.ts";
import { sha256HexSync } from "../../workers/lib/sha256.ts";
import { signSync } from "../../workers/pool/middleware/node-signing.ts";
import { localEdgeEnv } from "../stack/local-env.ts";
import { writeResults } from "../stack/paths.ts";
import { host, localSecrets, ports } from "../stack/ports.ts";
import { childProcesses, procStat, readPid, stopDaemon } from "../stack/process.ts";
import { createBenchKey, startBenchPool, startInstantUpstream } from "./backends.ts";
import { startCdpProfile } from "./cdp-profile.ts";
import { bundleEdge, serveEdgeInWorkerd } from "./workerd-serve.ts";

const upstreamPort = 8093;
const poolPort = 8094;
const edgePort = 8796;
const requests = Number(process.argv[2] ?? 4_000);
const warmup = Number(process.env.WARMUP ?? 800);
const connections = Number(process.env.CONNECTIONS ?? 8);
const profileDir = process.env.PROFILE_DIR;
const direct = process.env.DIRECT === "1";
const runs = Number(process.env.RUNS ?? 3);
const edgeProfileDir = process.env.EDGE_PROFILE_DIR;
const temperature = process.env.UNCACHED === "1" ? 1 : 0;
const inspectorPort = 9239;
const names = { upstream: "prof-instant", pool: "prof-pool", edge: "prof-edge" };

function startPool(): Promise<void> {
  return startBenchPool({
    name: names.pool,
    port: poolPort,
    upstreamPort,
    region: "prof",
    args: profileDir
      ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profileDir}`, "workers/pool/worker.ts"]
      : undefined,
  });
}

/** The pool's HTTP worker processes: the supervisor's `server.ts` children, or the profiled worker. */
function workerPids(): number[] {
  const root = readPid(names.pool);
  if (root === undefined) throw new Error("the pool is not running");
  if (profileDir) return [root];
  return childProcesses(root)
    .filter((child) => child.command.includes("workers/pool/worker.ts"))
    .map((child) => child.pid);
}

/** stime of the processes (kernel: sockets, timers, scheduling), in clock ticks. */
function sysTicks(pids: number[]): number {
  return pids.reduce((ticks, pid) => ticks + Number(procStat(pid)[12]), 0);
}

/** utime + stime of the processes, in clock ticks (10 ms). */
function cpuTicks(pids: number[]): number {
  return pids.reduce((ticks, pid) => {
    const fields = procStat(pid);
    return ticks + Number(fields[11]) + Number(fields[12]);
  }, 0);
}

/** A call through the edge with the API key. */
function edgeCall(url: string, key: string, body: string): Request {
  return new Request(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      "accept-encoding": "identity",
    },
    body,
  });
}

/** A call straight to the pool, signed and with the headers the edge adds. */
function poolCall(body: string): Request {
  const path = "/internal/v1/chat/completions";
  const timestamp = Date.now();
  const nonce = crypto.randomUUID();
  const signed = {
    "x-request-id": `req_${nonce}`,
    "x-tiergate-deadline": String(timestamp + 30_000),
    "x-tiergate-tenant": "bench-pool-cpu",
    "x-tiergate-key-id": "key_bench_pool_cpu",
    "x-tiergate-allowed-models": formatAllowedModels(null),
  };
  const signature = signSync(localSecrets.poolSigningSecret, {
    method: "POST",
    path,
    timestamp,
    nonce,
    bodySha256: sha256HexSync(body),
    headers: signed,
  });
  return new Request(`http://127.0.0.1:${poolPort}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...signed,
      "x-tiergate-timestamp": String(timestamp),
      "x-tiergate-nonce": nonce,
      "x-tiergate-signature": formatSignatureHeader({
        credential: trafficCredential,
        signedHeaders: Object.keys(signed),
        signature,
      }),
    },
    body,
  });
}

/** Sends `count` unique chat completions over `connections` loops; returns the non-200 count. */
async function send(url: string, key: string, count: number, tag: string): Promise<number> {
  let next = 0;
  let failed = 0;
  const loop = async () => {
    while (next < count) {
      const i = next++;
      const body = JSON.stringify({
        model: "auto",
        temperature,
        messages: [{ role: "user", content: `pool cpu ${tag} ${i} ${Date.now()}` }],
      });
      const response = await fetch(direct ? poolCall(body) : edgeCall(url, key, body));
      await response.arrayBuffer();
      if (response.status !== 200 || response.headers.get("x-cache") === "HIT") failed++;
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  return failed;
}

function startEdge(): Promise<{ url: string; stop(): Promise<void> }> {
  bundleEdge();
  return serveEdgeInWorkerd({
    name: names.edge,
    port: edgePort,
    bindings: { ...localEdgeEnv(), POOL_REGIONS: `prof=http://127.0.0.1:${poolPort}` },
    ...(edgeProfileDir ? { inspectorPort } : {}),
  });
}

/** Calls of each Redis command so far (INFO commandstats). */
async function redisCommands(redis: RedisClient): Promise<Record<string, number>> {
  const info = String(await redis.send("INFO", ["commandstats"]));
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls[match[1] ?? ""] = Number(match[2]);
  return calls;
}

/** Redis commands per request between two snapshots, by command (the INFO call itself left out). */
function commandsPerRequest(before: Record<string, number>, after: Record<string, number>) {
  const perRequest: Record<string, number> = {};
  let total = 0;
  for (const [name, calls] of Object.entries(after)) {
    const added = calls - (before[name] ?? 0) - (name === "info" ? 1 : 0);
    if (added <= 0) continue;
    perRequest[name] = Math.round((added / requests) * 100) / 100;
    total += added;
  }
  return { total: Math.round((total / requests) * 100) / 100, perRequest };
}

interface RunFigures {
  seconds: number;
  failed: number;
  pool_cpu_us_per_request: number;
  edge_cpu_us_per_request?: number;
  redis_bridge_cpu_us_per_request?: number;
  total_cpu_us_per_request: number;
  redis_commands_per_request: number;
  redis_commands_by_name: Record<string, number>;
  /** The kernel's share (stime) of each process group's CPU in this batch. */
  sys_share: Record<string, number>;
}

/** One measured batch: CPU ticks of each process and Redis commands, before and after. */
async function measure(edgeUrl: string, key: string, redis: RedisClient, run: number): Promise<RunFigures> {
  const pids = workerPids();
  // The edge's workerd, and the stack's Redis bridge (shared: other traffic on it adds to its figure).
  const edgePids = direct ? [] : [readPid(names.edge) ?? -1];
  const bridgePids = direct ? [] : [readPid("upstash-bridge") ?? -1];
  const before = { pool: cpuTicks(pids), edge: cpuTicks(edgePids), bridge: cpuTicks(bridgePids) };
  const sysBefore = { pool: sysTicks(pids), edge: sysTicks(edgePids), bridge: sysTicks(bridgePids) };
  const commandsBefore = await redisCommands(redis);
  const started = performance.now();
  const failed = await send(edgeUrl, key, requests, `run${run}`);
  const seconds = (performance.now() - started) / 1000;
  const perRequest = (pidList: number[], start: number) =>
    Math.round(((cpuTicks(pidList) - start) * 10_000) / requests);
  const pool = perRequest(pids, before.pool);
  const edge = perRequest(edgePids, before.edge);
  const bridge = perRequest(bridgePids, before.bridge);
  const commands = commandsPerRequest(commandsBefore, await redisCommands(redis));
  const share = (pidList: number[], cpu: number, sys: number) =>
    cpu > 0 ? Math.round(((sysTicks(pidList) - sys) * 10_000 * 100) / (cpu * requests)) / 100 : 0;
  const sysShare = {
    pool: share(pids, pool, sysBefore.pool),
    ...(direct
      ? {}
      : { edge: share(edgePids, edge, sysBefore.edge), bridge: share(bridgePids, bridge, sysBefore.bridge) }),
  };
  return {
    seconds: Math.round(seconds * 100) / 100,
    failed,
    pool_cpu_us_per_request: pool,
    ...(direct ? {} : { edge_cpu_us_per_request: edge, redis_bridge_cpu_us_per_request: bridge }),
    total_cpu_us_per_request: pool + edge + bridge,
    redis_commands_per_request: commands.total,
    redis_commands_by_name: commands.perRequest,
    sys_share: sysShare,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  for (const name of Object.values(names)) await stopDaemon(name, 5_000);
  await startInstantUpstream(names.upstream, upstreamPort);
  await startPool();
  const edge = direct ? { url: "", stop: async () => undefined } : await startEdge();
  try {
    const key = direct ? "" : await createBenchKey("bench-pool-cpu");
    const failedWarmup = await send(edge.url, key, warmup, "warmup");
    if (failedWarmup > 0) throw new Error(`${failedWarmup} warmup requests were not 200 misses`);
    const redis = new RedisClient(`redis://${host}:${ports.redis}`);
    const profiler =
      edgeProfileDir && !direct ? await startCdpProfile(`ws://127.0.0.1:${inspectorPort}/edge`) : undefined;
    const figures: RunFigures[] = [];
    for (let run = 0; run < runs; run++) figures.push(await measure(edge.url, key, redis, run));
    if (profiler && edgeProfileDir) {
      const path = join(edgeProfileDir, "edge.cpuprofile");
      writeFileSync(path, JSON.stringify(await profiler.stop()));
      console.log(`edge profile: ${path}`);
    }
    redis.close();
    const of = (field: Exclude<keyof RunFigures, "redis_commands_by_name" | "sys_share">) =>
      median(figures.map((run) => run[field] ?? Number.NaN));
    const result = {
      mode: direct ? "direct" : "through-edge",
      temperature,
      warmup,
      requests,
      connections,
      workers: workerPids().length,
      runs,
      failed: figures.reduce((sum, run) => sum + run.failed, 0),
      pool_cpu_us_per_request: of("pool_cpu_us_per_request"),
      ...(direct
        ? {}
        : {
            edge_cpu_us_per_request: of("edge_cpu_us_per_request"),
            redis_bridge_cpu_us_per_request: of("redis_bridge_cpu_us_per_request"),
          }),
      total_cpu_us_per_request: of("total_cpu_us_per_request"),
      redis_commands_per_request: of("redis_commands_per_request"),
      each_run: figures,
    };
    console.table(figures.map(({ redis_commands_by_name: _, sys_share: __, ...run }) => run));
    console.log("Redis commands per request:", figures.at(-1)?.redis_commands_by_name);
    console.log("kernel share of CPU:", figures.at(-1)?.sys_share);
    const { each_run: _, ...summary } = result;
    console.table([summary]);
    console.log(`wrote ${writeResults("bench-pool-cpu", result)}`);
  } finally {
    await edge.stop();
    await stopDaemon(names.pool, 10_000);
    await stopDaemon(names.upstream, 5_000);
  }
}

await main();
