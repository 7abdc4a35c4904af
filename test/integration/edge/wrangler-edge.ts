import { join } from "node:path";
import { repoRoot } from "../../stack/paths.ts";
import { spawnDaemon, stopDaemon, waitFor } from "../../stack/process.ts";

/** A second `wrangler dev` edge (workerd, dev mode) with its own port and variables. */
export interface ExtraEdge {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the edge in local workerd on `port` with `vars` overriding wrangler.toml's [vars]. The
 * inspector gets its own port so this runs next to the stack's edge; live reload stays off.
 */
export async function startWranglerEdge(
  name: string,
  port: number,
  vars: Record<string, string>,
): Promise<ExtraEdge> {
  await stopDaemon(name);
  const args = [
    "dev",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--inspector-port",
    String(port + 1000),
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ];
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  spawnDaemon({
    name,
    command: join(repoRoot, "node_modules", ".bin", "wrangler"),
    args,
    env: { WRANGLER_SEND_METRICS: "false", CI: "true" },
    cwd: repoRoot,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    name,
    async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok,
    90_000,
  );
  return { url, stop: () => stopDaemon(name, 10_000) };
}
