/**
 * `npm start`'s edge: the deploy bundle in `workerd serve`, supervised like the pool's children.
 * - workerd runs with its file-descriptor limit raised to the hard limit (`ulimit -n`), and the edge's
 *   admission limit (EDGE_MAX_CONCURRENCY) is capped well below it, so a flood is shed with 503s
 *   instead of running the process out of descriptors;
 * - a workerd that exits is restarted with backoff (child-supervision.ts), logged and counted;
 * - wrangler.toml's crons are driven from here: workerd serve has no scheduler, so at each run this
 *   process calls a trigger worker on an owner-only Unix socket, which invokes the edge's `scheduled`
 *   handler through a service binding (no TCP port, so nothing public can trigger it);
 * - restarts, cron runs and the fd limit are on a loopback `/metrics` (EDGE_SUPERVISOR_METRICS_PORT);
 * - V8 runs every collection as a full one, with a fixed young generation ({@link defaultV8Flags}), so
 *   the native memory of dead JS wrappers is freed within seconds instead of piling up for minutes.
 */

import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Counter, Gauge, Registry } from "prom-client";
import { z } from "zod";
import { createLogger } from "../../shared/logger.ts";
import { type ChildExit, superviseChild } from "../../workers/pool/child-supervision.ts";
import { startCronDriver } from "./cron-driver.ts";
import { parseCron } from "./cron-schedule.ts";
import { localEdgeEnv } from "./local-env.ts";
import { stackDir } from "./paths.ts";
import { host, ports } from "./ports.ts";
import {
  bundleEdge,
  defaultV8Flags,
  workerdBinary,
  wranglerCrons,
  writeWorkerdConfig,
} from "./workerd-edge.ts";

const configSchema = z.object({
  EDGE_SUPERVISOR_NAME: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default("edge"),
  EDGE_PORT: z.coerce.number().int().positive().default(ports.edge),
  EDGE_SUPERVISOR_METRICS_PORT: z.coerce.number().int().positive().default(ports.edgeSupervisor),
  /** `;`-separated cron expressions; default: wrangler.toml's `[triggers] crons`. */
  EDGE_CRONS: z.string().optional(),
  /** JSON object merged over the local edge bindings (e.g. another POOL_REGIONS). */
  EDGE_BINDINGS: z.string().default("{}"),
  /** The fd limit wanted for workerd (default: the hard limit). */
  EDGE_FD_LIMIT: z.coerce.number().int().positive().optional(),
  /** Opens workerd's V8 inspector on this loopback port (`ws://127.0.0.1:<port>/edge`), for CPU profiles. */
  EDGE_INSPECTOR_PORT: z.coerce.number().int().positive().optional(),
  /** Space-separated V8 flags for workerd, replacing {@link defaultV8Flags} (`""`: none). */
  EDGE_V8_FLAGS: z.string().optional(),
});

/** Descriptors per admitted forward: the client's socket, the pool connection, Redis calls, slack. */
const descriptorsPerForward = 4;

/** The soft limit we can raise workerd's to: the hard limit, capped at 1M (`unlimited` included). */
function hardFdLimit(): number {
  const out = Bun.spawnSync(["sh", "-c", "ulimit -Hn"]).stdout.toString().trim();
  const value = out === "unlimited" ? 1 << 20 : Number(out);
  return Number.isFinite(value) && value > 0 ? Math.min(value, 1 << 20) : 1024;
}

const config = configSchema.parse(process.env);
const log = createLogger({ bindings: { service: "edge-supervisor", pid: process.pid } });
const dir = join(stackDir, "edge-serve", config.EDGE_SUPERVISOR_NAME);
const cronSocket = join(dir, "cron.sock");
const fdLimit = Math.min(config.EDGE_FD_LIMIT ?? Number.POSITIVE_INFINITY, hardFdLimit());
const maxConcurrency = Math.max(8, Math.floor(fdLimit / descriptorsPerForward));
const bindings: Record<string, string> = {
  ...localEdgeEnv(),
  EDGE_MAX_CONCURRENCY: String(maxConcurrency),
  ...(JSON.parse(config.EDGE_BINDINGS) as Record<string, string>),
};
const crons = (config.EDGE_CRONS?.split(";") ?? wranglerCrons()).map((c) => c.trim()).filter(Boolean);

const registry = new Registry();
const restarts = new Counter({
  name: "tiergate_edge_restarts_total",
  help: "Restarts of the edge's workerd process by its supervisor.",
  registers: [registry],
});
const cronRuns = new Counter({
  name: "tiergate_edge_cron_runs_total",
  help: "Runs of the edge's scheduled handler driven by the supervisor, by cron and outcome.",
  labelNames: ["cron", "outcome"],
  registers: [registry],
});
new Gauge({
  name: "tiergate_edge_fd_limit",
  help: "The file-descriptor limit workerd runs with.",
  registers: [registry],
}).set(fdLimit);
new Gauge({
  name: "tiergate_edge_max_concurrency",
  help: "The cap on the edge's admitted forwards per isolate, below the fd limit.",
  registers: [registry],
}).set(maxConcurrency);

mkdirSync(dir, { recursive: true, mode: 0o700 });
chmodSync(dir, 0o700);
bundleEdge(dir);
const configPath = writeWorkerdConfig(dir, "edge", {
  port: config.EDGE_PORT,
  bindings,
  cronSocket,
  v8Flags: config.EDGE_V8_FLAGS?.split(" ").filter(Boolean) ?? defaultV8Flags,
});
const stop = new AbortController();
let child: Subprocess | undefined;

/** Starts workerd once (fd limit raised in the shell that execs it) and resolves when it exits. */
async function runWorkerd(): Promise<ChildExit> {
  rmSync(cronSocket, { force: true });
  const startedAt = Date.now();
  child = Bun.spawn(
    [
      "sh",
      "-c",
      'ulimit -n "$0" && exec "$@"',
      String(fdLimit),
      workerdBinary,
      "serve",
      "--experimental",
      ...(config.EDGE_INSPECTOR_PORT ? [`--inspector-addr=${host}:${config.EDGE_INSPECTOR_PORT}`] : []),
      configPath,
    ],
    { cwd: dir, stdio: ["ignore", "inherit", "inherit"] },
  );
  log.info("workerd started", { workerdPid: child.pid, port: config.EDGE_PORT, fdLimit, maxConcurrency });
  const code = await child.exited;
  return { code, signal: child.signalCode, upMs: Date.now() - startedAt };
}

const stopCrons = startCronDriver({
  schedules: crons.map(parseCron),
  socket: cronSocket,
  signal: stop.signal,
  onRun: (cron, outcome, detail) => {
    cronRuns.inc({ cron, outcome });
    const fields = { cron, outcome, detail: detail.slice(0, 200) };
    if (outcome === "ok") log.info("cron ran", fields);
    else log.warn("cron run failed", fields);
  },
});

const metricsServer = Bun.serve({
  hostname: host,
  port: config.EDGE_SUPERVISOR_METRICS_PORT,
  fetch: async (request) =>
    new URL(request.url).pathname === "/metrics"
      ? new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } })
      : new Response("not found", { status: 404 }),
});

const supervised = superviseChild({
  run: runWorkerd,
  signal: stop.signal,
  onRestart: (exit, streak) => {
    restarts.inc();
    log.warn("workerd exited; restarting", { code: exit.code, signal: exit.signal, upMs: exit.upMs, streak });
  },
});

async function shutdown(reason: string): Promise<void> {
  if (stop.signal.aborted) return;
  stop.abort();
  stopCrons();
  log.info("stopping the edge", { reason });
  child?.kill("SIGTERM");
  await child?.exited;
  await metricsServer.stop(true);
  process.exit(0);
}

log.info("edge supervisor started", {
  url: `http://${host}:${config.EDGE_PORT}`,
  metrics: `http://${host}:${config.EDGE_SUPERVISOR_METRICS_PORT}/metrics`,
  crons,
});
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
void supervised.then((outcome) => {
  if (outcome === "stop-pool") {
    log.error("workerd refused its configuration; stopping");
    process.exit(78);
  }
});
