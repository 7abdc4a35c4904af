/**
 * The peer gateways of `bench:edge`, each in front of the same instant upstream: Portkey's gateway
 * (started by edge.ts) and the LiteLLM proxy (litellm.ts, one worker), each without and with its
 * response cache, and the throughput ratios of tiergate's rows against them.
 */

import { startLitellm } from "./litellm.ts";

/** How a row tells a cached answer: the response header and which of its values mean "hit". */
export interface CacheHeader {
  name: string;
  hit(value: string): boolean;
}

/** What `measure` in edge.ts takes. */
export interface MeasureOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  idReplacement?: boolean;
  /** Defaults to tiergate's `x-cache: HIT`. */
  cacheHeader?: CacheHeader;
}

export interface PeerRowsOptions {
  upstreamUrl: string;
  portkeyPort: number;
  litellmPort: number;
  /** The chat body for a prompt (model `small`, temperature 0). */
  chat(content: string): string;
  measure(name: string, options: MeasureOptions): Promise<void>;
}

/** Portkey reports its cache in `x-portkey-cache-status` (`HIT`, `MISS`, `DISABLED`). */
const portkeyCacheHeader: CacheHeader = { name: "x-portkey-cache-status", hit: (v) => v === "HIT" };
/** LiteLLM's proxy names the cache key in `x-litellm-cache-key` only on an answer from its cache. */
const litellmCacheHeader: CacheHeader = { name: "x-litellm-cache-key", hit: (v) => v !== "(none)" };

async function measurePortkey(options: PeerRowsOptions): Promise<void> {
  const headers = {
    "content-type": "application/json",
    authorization: "Bearer bench",
    "x-portkey-provider": "openai",
    "x-portkey-custom-host": `${options.upstreamUrl}/v1`,
  };
  const url = `http://127.0.0.1:${options.portkeyPort}/v1/chat/completions`;
  const body = options.chat("portkey");
  const cacheHeader = portkeyCacheHeader;
  await options.measure("portkey-nocache", { url, headers, body, cacheHeader });
  // Portkey's documented simple cache, asked for per request; the open-source build has no cache
  // store behind it, so its hit_share shows whether any answer came from a cache.
  const config = JSON.stringify({ cache: { mode: "simple" } });
  await options.measure("portkey-cache", {
    url,
    headers: { ...headers, "x-portkey-config": config },
    body,
    cacheHeader,
  });
}

async function measureLitellm(options: PeerRowsOptions, cache: boolean): Promise<void> {
  const litellm = await startLitellm({
    name: cache ? "bench-litellm-cache" : "bench-litellm",
    port: options.litellmPort,
    apiBase: `${options.upstreamUrl}/v1`,
    model: "small",
    cache,
  });
  try {
    const url = `${litellm.url}/v1/chat/completions`;
    const headers = { "content-type": "application/json", authorization: `Bearer ${litellm.key}` };
    const body = options.chat("litellm");
    // One answer first, so the cached row starts with the entry written.
    await fetch(url, { method: "POST", headers, body }).then((r) => r.arrayBuffer());
    await options.measure(cache ? "litellm-cache" : "litellm", {
      url,
      headers,
      body,
      cacheHeader: litellmCacheHeader,
    });
  } finally {
    await litellm.stop();
  }
}

/** Rows `portkey-nocache`, `portkey-cache`, `litellm`, `litellm-cache` (each `-c1`, fixed rate, `-saturation`). */
export async function measurePeerRows(options: PeerRowsOptions): Promise<void> {
  await measurePortkey(options);
  await measureLitellm(options, false);
  await measureLitellm(options, true);
}

type Find = (name: string) => { rps: number } | undefined;

/** Saturation throughput of tiergate's rows over each peer's (cache off and on). */
export function peerComparisons(find: Find, round: (n: number) => number): Record<string, number> {
  const pairs: Record<string, [string, string]> = {
    hit_saturation_vs_portkey_nocache: ["hit", "portkey-nocache"],
    hit_redis_saturation_vs_portkey_nocache: ["hit-redis", "portkey-nocache"],
    hit_saturation_vs_portkey_cache: ["hit", "portkey-cache"],
    miss_saturation_vs_portkey_nocache: ["miss", "portkey-nocache"],
    miss_saturation_over_litellm: ["miss", "litellm"],
    hit_saturation_over_litellm: ["hit", "litellm"],
    hit_saturation_over_litellm_cache: ["hit", "litellm-cache"],
    hit_redis_saturation_over_litellm_cache: ["hit-redis", "litellm-cache"],
  };
  const out: Record<string, number> = {};
  // A pair with a row not measured (e.g. `BENCH_ROWS=peers` skips `hit-redis`) is left out, not 0.
  for (const [key, [ours, theirs]] of Object.entries(pairs)) {
    const mine = find(`${ours}-saturation`);
    const peer = find(`${theirs}-saturation`);
    if (mine && peer) out[key] = round(mine.rps / Math.max(1, peer.rps));
  }
  return out;
}

type FindCpu = (name: string) => { cpu?: { us_per_request: Record<string, number> } } | undefined;

/** The groups that do a gateway's work for one request (the upstream and the generator are not). */
const gatewayGroups: Record<string, string[]> = {
  tiergate: ["edge", "pool", "upstash-bridge", "redis"],
  edge: ["edge"],
  portkey: ["portkey"],
  litellm: ["litellm"],
};

/**
 * CPU per request at saturation, from /proc: tiergate's edge alone (one tier, scaled on its own
 * machines) and its whole path (edge, pool, Redis bridge and Redis), against each peer's process, and
 * the requests one core serves by those figures (the ratio `peer µs / ours µs`).
 */
export function cpuComparisons(find: FindCpu, round: (n: number) => number): Record<string, number> {
  const usOf = (row: string, who: string) => {
    const use = find(`${row}-saturation`)?.cpu?.us_per_request;
    if (!use) return undefined;
    return (gatewayGroups[who] ?? []).reduce((sum, group) => sum + (use[group] ?? 0), 0);
  };
  const figures: Record<string, number | undefined> = {
    miss_edge_cpu_us: usOf("miss", "edge"),
    miss_path_cpu_us: usOf("miss", "tiergate"),
    hit_path_cpu_us: usOf("hit", "tiergate"),
    portkey_cpu_us: usOf("portkey-nocache", "portkey"),
    litellm_cpu_us: usOf("litellm", "litellm"),
  };
  const ratio = (peer: number | undefined, ours: number | undefined) =>
    peer && ours ? round(peer / ours) : undefined;
  const derived: Record<string, number | undefined> = {
    miss_edge_per_core_vs_portkey: ratio(figures.portkey_cpu_us, figures.miss_edge_cpu_us),
    miss_path_per_core_vs_portkey: ratio(figures.portkey_cpu_us, figures.miss_path_cpu_us),
    miss_edge_per_core_vs_litellm: ratio(figures.litellm_cpu_us, figures.miss_edge_cpu_us),
    miss_path_per_core_vs_litellm: ratio(figures.litellm_cpu_us, figures.miss_path_cpu_us),
    hit_path_per_core_vs_portkey: ratio(figures.portkey_cpu_us, figures.hit_path_cpu_us),
  };
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries({ ...figures, ...derived }))
    if (value !== undefined) out[key] = value;
  return out;
}
