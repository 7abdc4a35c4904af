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
 * supervisor and leaves its profile there when it stops. Writes `.stack/results/bench-pool-cpu.json`.
 */

import { formatAllowedModels, formatSignatureHeader, trafficCredential } from "../../shared/signing.ts";
import { sha256HexSync } from "../../workers/lib/sha256.ts";
import { signSync } from "../../workers/pool/middleware/node-signing.ts";
import { localEdgeEnv } from "../stack/local-env.ts";
import { writeResults } from "../stack/paths.ts";
import { localSecrets } from "../stack/ports.ts";
import { childProcesses, procStat, readPid, stopDaemon } from "../stack/process.ts";
import { createBenchKey, startBenchPool, startInstantUpstream } from "./backends.ts";
import { bundleEdge, serveEdgeInWorkerd } from "./workerd-serve.ts";

const upstreamPort = 8093;
const poolPort = 8094;
const edgePort = 8796;
const requests = Number(process.argv[2] ?? 4_000);
const warmup = 800;
const connections = Number(process.env.CONNECTIONS ?? 8);
const profileDir = process.env.PROFILE_DIR;
const direct = process.env.DIRECT === "1";
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
        temperature: 0,
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
  });
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
    const pids = workerPids();
    // The edge's workerd, and the stack's Redis bridge (shared: other traffic on it adds to its figure).
    const edgePids = direct ? [] : [readPid(names.edge) ?? -1];
    const bridgePids = direct ? [] : [readPid("upstash-bridge") ?? -1];
    const others = { edge: cpuTicks(edgePids), bridge: cpuTicks(bridgePids) };
    const before = cpuTicks(pids);
    const started = performance.now();
    const failed = await send(edge.url, key, requests, "run");
    const seconds = (performance.now() - started) / 1000;
    const ticks = cpuTicks(pids) - before;
    const perRequestUs = Math.round((ticks * 10_000) / requests);
    const perRequest = (pidList: number[], start: number) =>
      Math.round(((cpuTicks(pidList) - start) * 10_000) / requests);
    const result = {
      mode: direct ? "direct" : "through-edge",
      requests,
      connections,
      workers: pids.length,
      failed,
      seconds: Math.round(seconds * 100) / 100,
      pool_cpu_us_per_request: perRequestUs,
      ...(direct
        ? {}
        : {
            edge_cpu_us_per_request: perRequest(edgePids, others.edge),
            redis_bridge_cpu_us_per_request: perRequest(bridgePids, others.bridge),
          }),
    };
    console.table([result]);
    console.log(`wrote ${writeResults("bench-pool-cpu", result)}`);
  } finally {
    await edge.stop();
    await stopDaemon(names.pool, 10_000);
    await stopDaemon(names.upstream, 5_000);
  }
}

await main();
