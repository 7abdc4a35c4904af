/**
 * The edge for benchmarks: the deploy bundle served by `workerd serve` (test/stack/workerd-edge.ts,
 * the same way `npm start` serves it, with its V8 flags), without the supervisor, from a generated config.
 */

import { join } from "node:path";
import { stackDir } from "../stack/paths.ts";
import { spawnDaemon, stopDaemon, waitFor } from "../stack/process.ts";
import {
  bundleEdge as bundleInto,
  defaultV8Flags,
  workerdBinary,
  writeWorkerdConfig,
} from "../stack/workerd-edge.ts";

const bundleDir = join(stackDir, "bench-edge-bundle");

/**
 * V8 flags of the benches' workerd: `npm start`'s ({@link defaultV8Flags}) unless `EDGE_V8_FLAGS`
 * replaces them (space-separated; `""` for none, to compare).
 */
const benchV8Flags =
  process.env.EDGE_V8_FLAGS !== undefined
    ? process.env.EDGE_V8_FLAGS.split(" ").filter(Boolean)
    : defaultV8Flags;

/** Bundles the edge worker as a deploy would (into the benches' bundle folder). */
export function bundleEdge(): string {
  return bundleInto(bundleDir);
}

/** Serves the bundled edge with `workerd serve` on `port`; resolves once /health answers. */
export async function serveEdgeInWorkerd(options: {
  name: string;
  port: number;
  bindings: Record<string, string>;
  /** Opens workerd's V8 inspector on this port (`ws://127.0.0.1:<port>/edge`), for CPU profiles. */
  inspectorPort?: number;
}): Promise<{ url: string; stop(): Promise<void> }> {
  const configPath = writeWorkerdConfig(bundleDir, options.name, {
    port: options.port,
    v8Flags: benchV8Flags,
    bindings: options.bindings,
  });
  await stopDaemon(options.name, 5_000);
  const inspector = options.inspectorPort ? [`--inspector-addr=127.0.0.1:${options.inspectorPort}`] : [];
  spawnDaemon({
    name: options.name,
    command: workerdBinary,
    args: ["serve", ...inspector, configPath],
    cwd: bundleDir,
  });
  const url = `http://127.0.0.1:${options.port}`;
  await waitFor(
    options.name,
    async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok,
    30_000,
  );
  return { url, stop: () => stopDaemon(options.name, 5_000) };
}
