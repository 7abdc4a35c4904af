import { join } from "node:path";
import { repoRoot } from "./paths.ts";
import { spawnDaemon, stopDaemon, waitFor } from "./process.ts";

/** Options of {@link startPrivateEdge}. */
export interface PrivateEdgeOptions {
  /** Daemon name (pid and log files) and the supervisor's folder under `.stack/edge-serve/`. */
  name: string;
  port: number;
  metricsPort: number;
  /** `;`-separated crons (default: wrangler.toml's). */
  crons?: string;
  /** Bindings merged over the local edge's. */
  bindings?: Record<string, string>;
  /** Opens workerd's V8 inspector on this loopback port (`ws://127.0.0.1:<port>/edge`). */
  inspectorPort?: number;
  /** V8 flags for workerd, replacing the supervisor's defaults (`[]`: none). */
  v8Flags?: string[];
}

/**
 * An edge served like `npm start` serves it (the edge supervisor: deploy bundle in workerd serve) on
 * private ports, for tests and benches that must not disturb the stack's edge.
 */
export async function startPrivateEdge(
  options: PrivateEdgeOptions,
): Promise<{ url: string; metricsUrl: string; stop(): Promise<void> }> {
  await stopDaemon(options.name, 5_000);
  spawnDaemon({
    name: options.name,
    command: join(repoRoot, "node_modules", ".bin", "bun"),
    args: ["test/stack/edge-supervisor.ts"],
    cwd: repoRoot,
    env: {
      EDGE_SUPERVISOR_NAME: options.name,
      EDGE_PORT: String(options.port),
      EDGE_SUPERVISOR_METRICS_PORT: String(options.metricsPort),
      EDGE_BINDINGS: JSON.stringify(options.bindings ?? {}),
      ...(options.crons ? { EDGE_CRONS: options.crons } : {}),
      ...(options.inspectorPort ? { EDGE_INSPECTOR_PORT: String(options.inspectorPort) } : {}),
      ...(options.v8Flags ? { EDGE_V8_FLAGS: options.v8Flags.join(" ") } : {}),
    },
  });
  const url = `http://127.0.0.1:${options.port}`;
  await waitFor(
    options.name,
    async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok,
    90_000,
  );
  return {
    url,
    metricsUrl: `http://127.0.0.1:${options.metricsPort}/metrics`,
    stop: () => stopDaemon(options.name, 10_000),
  };
}
