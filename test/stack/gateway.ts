import { join } from "node:path";
import { localEdgeEnv, localPoolEnv } from "./local-env.ts";
import { repoRoot } from "./paths.ts";
import { host, ports } from "./ports.ts";
import { isAlive, readPid, spawnDaemon, stopDaemon, waitFor } from "./process.ts";
import type { StackService } from "./service.ts";

const bin = (name: string) => join(repoRoot, "node_modules", ".bin", name);

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  return response.ok;
}

function appService(options: {
  name: string;
  port: number;
  healthPath: string;
  command: string;
  args: string[];
  env: () => Record<string, string>;
  timeoutMs: number;
}): StackService {
  const url = `http://${host}:${options.port}`;
  const service: StackService = {
    name: options.name,
    url,
    install: async () => {},
    async start() {
      if (isAlive(readPid(options.name)) && (await service.healthy())) return;
      await stopDaemon(options.name);
      spawnDaemon({
        name: options.name,
        command: options.command,
        args: options.args,
        env: options.env(),
        cwd: repoRoot,
      });
      await waitFor(options.name, service.healthy, options.timeoutMs);
    },
    stop: () => stopDaemon(options.name, 15_000),
    healthy: () => httpOk(`${url}${options.healthPath}`).catch(() => false),
    reset: async () => {},
  };
  return service;
}

/** The regional pool: `bun workers/pool/supervisor.ts` (N workers + ingest). */
export const poolService = appService({
  name: "pool",
  port: ports.pool,
  healthPath: "/ready",
  command: bin("bun"),
  args: ["workers/pool/supervisor.ts"],
  env: localPoolEnv,
  timeoutMs: 30_000,
});

/**
 * The edge as deployed: the wrangler bundle in `workerd serve`, under the edge supervisor (restarts
 * with backoff, fd limit raised, wrangler.toml's crons driven). `npm run dev:edge` keeps `wrangler dev`.
 */
export const edgeService = appService({
  name: "edge",
  port: ports.edge,
  healthPath: "/health",
  command: bin("bun"),
  args: ["test/stack/edge-supervisor.ts"],
  env: () => ({ EDGE_PORT: String(ports.edge), WRANGLER_SEND_METRICS: "false", CI: "true" }),
  timeoutMs: 60_000,
});

/** The same edge app on Deno. */
export const denoEdgeService = appService({
  name: "edge-deno",
  port: ports.edge + 1,
  healthPath: "/health",
  command: bin("deno"),
  args: [
    "run",
    "--node-modules-dir=manual",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-sys",
    "edge/deno.ts",
  ],
  env: () => ({
    ...localEdgeEnv(),
    EDGE_PORT: String(ports.edge + 1),
    EDGE_HOST: host,
    DENO_NO_UPDATE_CHECK: "1",
  }),
  timeoutMs: 30_000,
});
