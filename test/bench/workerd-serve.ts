/**
 * The edge for benchmarks: the worker bundled by wrangler (`deploy --dry-run`, the bundle a deploy
 * uploads) and served by `workerd serve`, the open-source Workers runtime, from a generated config.
 * Unlike `wrangler dev` or Miniflare there is no dev proxy and no Miniflare entry worker in front of
 * the app (that one cost ~120 µs of CPU per request here), so it is the closest local stand-in for
 * the edge in production.
 */

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, stackDir } from "../stack/paths.ts";
import { spawnDaemon, stopDaemon, waitFor } from "../stack/process.ts";

const bundleDir = join(stackDir, "bench-edge-bundle");
const workerd = join(repoRoot, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd");

/** Bundles the edge worker as a deploy would (once per process). */
export function bundleEdge(): string {
  const build = spawnSync(
    join(repoRoot, "node_modules", ".bin", "wrangler"),
    ["deploy", "--dry-run", "--outdir", bundleDir],
    { cwd: repoRoot, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" }, encoding: "utf8" },
  );
  if (build.status !== 0) throw new Error(`wrangler build failed: ${build.stderr}`);
  return join(bundleDir, "worker.js");
}

const capnpText = (value: string) => JSON.stringify(value);

/** wrangler.toml's compatibility_date, so workerd runs the worker as a deploy would. */
function compatibilityDate(): string {
  const toml = readFileSync(join(repoRoot, "wrangler.toml"), "utf8");
  const date = /^compatibility_date\s*=\s*"([\d-]+)"/m.exec(toml)?.[1];
  if (!date) throw new Error("wrangler.toml has no compatibility_date");
  return date;
}

/** The workerd config: one worker with text bindings, allowed to reach loopback (Redis bridge, pool). */
function workerdConfig(port: number, bindings: Record<string, string>): string {
  const texts = Object.entries(bindings)
    .map(([name, value]) => `(name = ${capnpText(name)}, text = ${capnpText(value)})`)
    .join(",\n    ");
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "edge")],
);
const edge :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${capnpText(compatibilityDate())},
  bindings = [
    ${texts}
  ],
);
`;
}

/** Serves the bundled edge with `workerd serve` on `port`; resolves once /health answers. */
export async function serveEdgeInWorkerd(options: {
  name: string;
  port: number;
  bindings: Record<string, string>;
}): Promise<{ url: string; stop(): Promise<void> }> {
  mkdirSync(bundleDir, { recursive: true });
  const configPath = join(bundleDir, `${options.name}.capnp`);
  writeFileSync(configPath, workerdConfig(options.port, options.bindings));
  await stopDaemon(options.name, 5_000);
  spawnDaemon({ name: options.name, command: workerd, args: ["serve", configPath], cwd: bundleDir });
  const url = `http://127.0.0.1:${options.port}`;
  await waitFor(
    options.name,
    async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok,
    30_000,
  );
  return { url, stop: () => stopDaemon(options.name, 5_000) };
}
