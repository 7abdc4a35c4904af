/**
 * The edge as deployed: the worker bundled by wrangler (`deploy --dry-run`, the bundle a deploy
 * uploads) served by `workerd serve`, the open-source Workers runtime, from a generated config. Unlike
 * `wrangler dev` or Miniflare there is no dev proxy and no Miniflare entry worker in front of the app.
 * `npm start` (through the edge supervisor) and the benches both serve the edge this way.
 */

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./paths.ts";

/** The workerd binary that wrangler itself runs. */
export const workerdBinary = join(
  repoRoot,
  "node_modules",
  "@cloudflare",
  "workerd-linux-64",
  "bin",
  "workerd",
);

/** Bundles the edge worker as a deploy would into `outDir`; returns the bundle's path. */
export function bundleEdge(outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const build = spawnSync(
    join(repoRoot, "node_modules", ".bin", "wrangler"),
    ["deploy", "--dry-run", "--outdir", outDir],
    { cwd: repoRoot, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" }, encoding: "utf8" },
  );
  if (build.status !== 0) throw new Error(`wrangler build failed: ${build.stderr}`);
  return join(outDir, "worker.js");
}

const capnpText = (value: string) => JSON.stringify(value);

function wranglerToml(): string {
  return readFileSync(join(repoRoot, "wrangler.toml"), "utf8");
}

/** wrangler.toml's compatibility_date, so workerd runs the worker as a deploy would. */
export function compatibilityDate(): string {
  const date = /^compatibility_date\s*=\s*"([\d-]+)"/m.exec(wranglerToml())?.[1];
  if (!date) throw new Error("wrangler.toml has no compatibility_date");
  return date;
}

/** The top-level `[triggers] crons` of wrangler.toml (the schedule a deploy registers). */
export function wranglerCrons(): string[] {
  const section = /^\[triggers\]\s*\n([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(wranglerToml())?.[1] ?? "";
  const list = /^crons\s*=\s*\[([^\]]*)\]/m.exec(section)?.[1] ?? "";
  return [...list.matchAll(/"([^"]+)"/g)].map((match) => match[1] as string);
}

/**
 * V8 flags of the edge's workerd (`npm start`), for memory that stays flat under load:
 * - `--gc-global`: workerd's API objects (requests, headers, streams and the buffers they own) live
 *   in its own allocator behind small JS wrappers; V8 cannot see their size and frees them only when
 *   a full GC collects the wrappers. Under steady load the JS heap stays small, so V8 ran
 *   young-generation collections only and that native garbage piled up for minutes (workerd's RSS
 *   grew ~0.7 MB/s between full GCs; one full GC freed 108 MB of it). With this flag each collection
 *   is a full one; the live JS heap is ~8 MB, so each is short.
 * - a fixed young generation (8 MB semi-spaces): V8 otherwise grows it to its working size over
 *   minutes and shrinks it after a memory-reducing GC, and RSS follows it by 20-30 MB.
 */
export const defaultV8Flags = ["--gc-global", "--min-semi-space-size=8", "--max-semi-space-size=8"];

/** What the generated workerd config serves. */
export interface WorkerdEdgeConfig {
  port: number;
  /** Text bindings of the edge worker (its environment). */
  bindings: Record<string, string>;
  /**
   * A Unix socket (owner-only, never a TCP port) where a tiny trigger worker invokes the edge's
   * `scheduled` handler through a service binding: `workerd serve` has no cron scheduler of its own.
   * Needs `workerd serve --experimental` (service bindings' extra handlers).
   */
  cronSocket?: string;
  /** V8 flags of the process (workerd's `v8Flags`), e.g. `--trace-gc` for a diagnosis. */
  v8Flags?: string[];
}

/** The trigger worker: `POST /?cron=…&time=…` on the private socket runs the edge's `scheduled`. */
const cronTriggerWorker = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const cron = url.searchParams.get("cron") ?? "";
    const time = Number(url.searchParams.get("time") ?? Date.now());
    const result = await env.EDGE.scheduled({ cron, scheduledTime: new Date(time) });
    return Response.json(result, { status: result.outcome === "ok" ? 200 : 500 });
  },
};
`;

/** The workerd config: the edge with text bindings, allowed to reach loopback (Redis bridge, pool). */
export function workerdConfig(options: WorkerdEdgeConfig): string {
  const texts = Object.entries(options.bindings)
    .map(([name, value]) => `(name = ${capnpText(name)}, text = ${capnpText(value)})`)
    .join(",\n    ");
  const cron = options.cronSocket !== undefined;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    ${cron ? '(name = "cron-trigger", worker = .cronTrigger),' : ""}
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],${options.v8Flags?.length ? `\n  v8Flags = [${options.v8Flags.map(capnpText).join(", ")}],` : ""}
  sockets = [
    (name = "http", address = "127.0.0.1:${options.port}", http = (), service = "edge"),
    ${cron ? `(name = "cron", address = ${capnpText(`unix:${options.cronSocket}`)}, http = (), service = "cron-trigger"),` : ""}
  ],
);
const edge :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${capnpText(compatibilityDate())},
  bindings = [
    ${texts}
  ],
);
${
  cron
    ? `const cronTrigger :Workerd.Worker = (
  modules = [(name = "cron.js", esModule = embed "cron.js")],
  compatibilityDate = ${capnpText(compatibilityDate())},
  compatibilityFlags = ["service_binding_extra_handlers"],
  bindings = [(name = "EDGE", service = "edge")],
);`
    : ""
}
`;
}

/** Writes the config (and the trigger worker) next to the bundle in `dir`; returns the config's path. */
export function writeWorkerdConfig(dir: string, name: string, options: WorkerdEdgeConfig): string {
  mkdirSync(dir, { recursive: true });
  if (options.cronSocket !== undefined) writeFileSync(join(dir, "cron.js"), cronTriggerWorker);
  const configPath = join(dir, `${name}.capnp`);
  writeFileSync(configPath, workerdConfig(options));
  return configPath;
}
