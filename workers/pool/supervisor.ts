import type { Subprocess } from "bun";
import { startDriftScheduler } from "../drift/scheduler.ts";
import { loadWorkerEnv } from "./env.ts";

/**
 * The regional pool: N HTTP workers sharing one port (SO_REUSEPORT), plus one ingest process that moves
 * events from Kafka into ClickHouse. A child that dies is restarted with backoff; SIGTERM drains them all.
 */
const config = loadWorkerEnv();
const here = import.meta.dir;

interface Child {
  name: string;
  script: string;
  process?: Subprocess;
  restarts: number;
}

const children: Child[] = [
  ...Array.from({ length: config.POOL_PROCESSES }, (_, i) => ({
    name: `worker-${i + 1}`,
    script: `${here}/worker.ts`,
    restarts: 0,
  })),
  { name: "ingest", script: `${here}/ingest.ts`, restarts: 0 },
];

let stopping = false;

function spawnChild(child: Child): void {
  child.process = Bun.spawn([process.execPath, child.script], {
    stdio: ["ignore", "inherit", "inherit"],
    env: process.env,
    onExit(_proc, exitCode, signal) {
      if (stopping) return;
      if (exitCode === 78) {
        console.error(`${child.name} rejected its configuration; stopping the pool`);
        void shutdown("bad configuration", 78);
        return;
      }
      const delay = Math.min(30_000, 250 * 2 ** Math.min(child.restarts, 7));
      child.restarts++;
      console.error(`${child.name} exited (${exitCode ?? signal}); restarting in ${delay} ms`);
      setTimeout(() => !stopping && spawnChild(child), delay);
    },
  });
}

async function shutdown(reason: string, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  stopDriftScheduler();
  stopLearningScheduler();
  console.log(`pool: ${reason}; draining ${children.length} children`);
  for (const child of children) child.process?.kill("SIGTERM");
  await Promise.all(children.map((c) => c.process?.exited));
  console.log("pool: stopped");
  process.exit(code);
}

for (const child of children) spawnChild(child);
console.log(
  `tiergate pool (${config.POOL_REGION}) on http://${config.POOL_HOST}:${config.POOL_PORT} with ${config.POOL_PROCESSES} workers`,
);
// Drift job trigger for deployments without Workers cron (DRIFT_SCHEDULE_MS > 0; off by default).
const stopDriftScheduler =
  config.DRIFT_SCHEDULE_MS > 0
    ? startDriftScheduler({
        poolUrl: `http://${config.POOL_HOST}:${config.POOL_PORT}`,
        signingSecret: config.POOL_ADMIN_SECRETS.get("scheduler") ?? "",
        periodMs: config.DRIFT_SCHEDULE_MS,
        onResult: (status, body) => console.log(`drift scheduler: ${status} ${body.slice(0, 200)}`),
        onError: (error) => console.warn("drift scheduler: pool call failed:", error),
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
        onResult: (status, body) => console.log(`routing learning: ${status} ${body.slice(0, 200)}`),
        onError: (error) => console.warn("routing learning: pool call failed:", error),
      })
    : () => undefined;
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
