import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createLogger } from "../../shared/logger.ts";
import { startDriftScheduler } from "../drift/scheduler.ts";
import { type ChildExit, superviseChild } from "./child-supervision.ts";
import { loadWorkerEnv } from "./env.ts";
import { restartReport, wantsRestartReport } from "./restart-reports.ts";

/**
 * The regional pool: N HTTP workers sharing one port (SO_REUSEPORT), plus INGEST_PROCESSES ingest
 * processes (one Kafka consumer group) that move events from Kafka into ClickHouse. A child that dies is
 * restarted with backoff (the streak resets after a minute up); SIGTERM drains them all.
 */
const config = loadWorkerEnv();
const here = import.meta.dir;
const log = createLogger({ bindings: { service: "pool", role: "supervisor", pid: process.pid } });

interface Child {
  name: string;
  script: string;
  /** Extra environment of this child (a worker's index and the metrics socket directory). */
  env?: Record<string, string>;
  process?: Subprocess;
}

// Workers serve their own registries on Unix sockets here, so any worker can answer /metrics for all.
const metricsSocketDir = mkdtempSync(join(tmpdir(), "tiergate-pool-metrics-"));

const children: Child[] = [
  ...Array.from({ length: config.POOL_PROCESSES }, (_, i) => ({
    name: `worker-${i + 1}`,
    script: `${here}/worker.ts`,
    env: { POOL_WORKER_INDEX: String(i + 1), POOL_METRICS_SOCKET_DIR: metricsSocketDir },
  })),
  ...Array.from({ length: config.INGEST_PROCESSES }, (_, i) => ({
    name: config.INGEST_PROCESSES === 1 ? "ingest" : `ingest-${i + 1}`,
    script: `${here}/ingest.ts`,
  })),
];
const stop = new AbortController();
const restarts = new Map<string, number>(children.map((child) => [child.name, 0]));

/** Tells every running child the restart counts, for its `/metrics`. */
function broadcastRestarts(): void {
  const report = restartReport(restarts);
  for (const child of children) {
    try {
      child.process?.send(report);
    } catch {
      // the child is exiting; it gets the counts when it is started again
    }
  }
}

/** Starts the child once and resolves when it exits. */
async function runChild(child: Child): Promise<ChildExit> {
  const startedAt = Date.now();
  const proc = Bun.spawn([process.execPath, child.script], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, ...child.env },
    // IPC carries the restart counts to the child's /metrics.
    ipc: (message, subprocess) => {
      if (wantsRestartReport(message)) subprocess.send(restartReport(restarts));
    },
    serialization: "json",
  });
  child.process = proc;
  const code = await proc.exited;
  return { code, signal: proc.signalCode, upMs: Date.now() - startedAt };
}

async function supervise(child: Child): Promise<void> {
  const outcome = await superviseChild({
    run: () => runChild(child),
    signal: stop.signal,
    onRestart: (exit, streak) => {
      restarts.set(child.name, (restarts.get(child.name) ?? 0) + 1);
      broadcastRestarts();
      log.warn("child exited; restarting", {
        child: child.name,
        code: exit.code,
        signal: exit.signal,
        upMs: exit.upMs,
        streak,
        restarts: restarts.get(child.name),
      });
    },
  });
  if (outcome === "stop-pool") {
    log.error("child rejected its configuration; stopping the pool", { child: child.name });
    void shutdown("bad configuration", 78);
  }
}

async function shutdown(reason: string, code = 0): Promise<void> {
  if (stop.signal.aborted) return;
  stop.abort();
  stopDriftScheduler();
  stopLearningScheduler();
  log.info("draining children", { reason, children: children.length });
  for (const child of children) child.process?.kill("SIGTERM");
  await Promise.all(children.map((c) => c.process?.exited));
  rmSync(metricsSocketDir, { recursive: true, force: true });
  log.info("pool stopped");
  process.exit(code);
}

for (const child of children) void supervise(child);
log.info("pool started", {
  region: config.POOL_REGION,
  url: `http://${config.POOL_HOST}:${config.POOL_PORT}`,
  workers: config.POOL_PROCESSES,
  ingestProcesses: config.INGEST_PROCESSES,
});
// Drift job trigger for deployments without Workers cron (DRIFT_SCHEDULE_MS > 0; off by default).
const stopDriftScheduler =
  config.DRIFT_SCHEDULE_MS > 0
    ? startDriftScheduler({
        poolUrl: `http://${config.POOL_HOST}:${config.POOL_PORT}`,
        signingSecret: config.POOL_ADMIN_SECRETS.get("scheduler") ?? "",
        periodMs: config.DRIFT_SCHEDULE_MS,
        onResult: (status, body) => log.info("drift scheduler ran", { status, body: body.slice(0, 200) }),
        onError: (error) => log.warn("drift scheduler: pool call failed", { error }),
      })
    : () => undefined;
// Routing's per-tenant feedback learning runs on the same cadence, under its own lease.
const stopLearningScheduler =
  config.DRIFT_SCHEDULE_MS > 0
    ? startDriftScheduler({
        poolUrl: `http://${config.POOL_HOST}:${config.POOL_PORT}`,
        signingSecret: config.POOL_ADMIN_SECRETS.get("scheduler") ?? "",
        periodMs: config.DRIFT_SCHEDULE_MS,
        path: "/internal/v1/routing/learn",
        onResult: (status, body) => log.info("routing learning ran", { status, body: body.slice(0, 200) }),
        onError: (error) => log.warn("routing learning: pool call failed", { error }),
      })
    : () => undefined;
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
