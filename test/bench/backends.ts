/**
 * What the gateway benchmarks start behind the edge: an instant OpenAI-compatible upstream, a Bun pool
 * routed only to it (registry from env, heuristic classifier), and an API key of a bench tenant.
 */

import { join } from "node:path";
import { createApiKey, ensureTenant } from "../../workers/db/api-keys.ts";
import { createDatabase } from "../../workers/db/client.ts";
import { localPoolEnv } from "../stack/local-env.ts";
import { repoRoot, stackDir } from "../stack/paths.ts";
import { spawnDaemon, stopDaemon, tcpOpen, waitFor } from "../stack/process.ts";

export const bunBinary = join(repoRoot, "node_modules", ".bin", "bun");

/** `bun test/bench/instant-upstream.ts <port>` as a daemon called `name`. */
export async function startInstantUpstream(name: string, port: number): Promise<void> {
  await stopDaemon(name, 5_000);
  spawnDaemon({
    name,
    command: bunBinary,
    args: ["test/bench/instant-upstream.ts", String(port)],
    cwd: repoRoot,
  });
  await waitFor(name, () => tcpOpen(port), 15_000);
}

/** The pool's environment for a bench: every tier's model is the instant upstream on `upstreamPort`. */
export function benchPoolEnv(options: {
  port: number;
  upstreamPort: number;
  region: string;
}): Record<string, string> {
  const v1 = `http://127.0.0.1:${options.upstreamPort}/v1`;
  return {
    ...localPoolEnv(),
    POOL_PORT: String(options.port),
    POOL_REGION: options.region,
    SPOOL_DIR: join(stackDir, `spool-${options.region}`),
    MAX_IN_FLIGHT: "4096",
    REGISTRY_SOURCE: "env",
    ROUTER_CLASSIFIER: "heuristic",
    VLLM_SMALL_BASE_URL: v1,
    VLLM_MEDIUM_BASE_URL: v1,
    VLLM_LARGE_BASE_URL: v1,
    VLLM_SMALL_MODEL: "instant",
    VLLM_MEDIUM_MODEL: "instant",
    VLLM_LARGE_MODEL: "instant",
  };
}

/** `bun workers/pool/supervisor.ts` (or `args` instead) with `benchPoolEnv`, as a daemon; resolves once /ready. */
export async function startBenchPool(options: {
  name: string;
  port: number;
  upstreamPort: number;
  region: string;
  args?: string[];
  /** Merged over `benchPoolEnv` (e.g. the production MAX_IN_FLIGHT). */
  env?: Record<string, string>;
}): Promise<void> {
  await stopDaemon(options.name, 5_000);
  spawnDaemon({
    name: options.name,
    command: bunBinary,
    args: options.args ?? ["workers/pool/supervisor.ts"],
    cwd: repoRoot,
    env: { ...benchPoolEnv(options), ...options.env },
  });
  await waitFor(
    options.name,
    async () =>
      (await fetch(`http://127.0.0.1:${options.port}/ready`, { signal: AbortSignal.timeout(1_000) })).ok,
    60_000,
  );
}

/** A new API key of tenant `tenantId` whose rate limit no benchmark reaches. */
export async function createBenchKey(tenantId: string): Promise<string> {
  const env = localPoolEnv();
  const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    await ensureTenant(database.db, { id: tenantId, name: `benchmark ${tenantId}` });
    const { key } = await createApiKey(database.db, {
      tenantId,
      name: "bench",
      rateLimitPerMinute: 100_000_000,
    });
    return key;
  } finally {
    await database.close();
  }
}
