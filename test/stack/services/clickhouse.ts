import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tryResolveLibchdb } from "chdb/libchdb";
import { stopStatement } from "../clickhouse/protocol.ts";
import { dataDir, repoRoot, serviceDataDir } from "../paths.ts";
import { host, ports } from "../ports.ts";
import {
  isAlive,
  logFile,
  MissingPieceError,
  pidFile,
  readPid,
  sleep,
  spawnDaemon,
  stopDaemon,
  tcpOpen,
} from "../process.ts";
import type { StackService } from "../service.ts";

const name = "clickhouse";
const url = `http://${host}:${ports.clickhouse}`;
const bunBinary = join(repoRoot, "node_modules", ".bin", "bun");
const serverScript = join(repoRoot, "test", "stack", "clickhouse", "server.ts");

const startTimeoutMs = 60_000;
/** How long the clean stop (cancelling the keep-alive query) may take before signals are used. */
const cleanStopTimeoutMs = 15_000;
const portReleaseTimeoutMs = 10_000;

/** Runs one statement over the HTTP interface and returns the raw body; throws on a non-200 answer. */
async function httpStatement(sql: string, timeoutMs: number): Promise<string> {
  const response = await fetch(`${url}/`, {
    method: "POST",
    body: sql,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`clickhouse answered ${response.status}: ${body.slice(0, 300)}`);
  return body;
}

async function healthy(): Promise<boolean> {
  return httpStatement("SELECT 1", 2_000).then(
    (body) => body.trim() === "1",
    () => false,
  );
}

function logTail(): string {
  const file = logFile(name);
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
}

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return false;
}

/** Waits for health; fails fast (with the log's tail) when the server process dies first. */
async function waitHealthy(pid: number): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (await healthy()) return;
    if (!isAlive(pid))
      throw new Error(`clickhouse server exited during start; ${logFile(name)}:\n${logTail()}`);
    await sleep(100);
  }
  throw new Error(`clickhouse did not answer SELECT 1 within ${startTimeoutMs} ms; see ${logFile(name)}`);
}

async function install(): Promise<void> {
  if (!tryResolveLibchdb()) {
    throw new MissingPieceError(
      "libchdb.so (the ClickHouse engine shipped by the npm package chdb 3.4.0 in @chdb/lib-linux-x64-gnu)",
      "Run `npm ci` in the repository; chdb is a pinned devDependency.",
    );
  }
  if (!existsSync(bunBinary)) {
    throw new MissingPieceError(
      "bun (node_modules/.bin/bun)",
      "Run `npm ci`; bun is a pinned devDependency.",
    );
  }
}

async function start(): Promise<void> {
  if (await healthy()) return;
  const running = readPid(name);
  if (running !== undefined && isAlive(running)) {
    // Still starting from an earlier call, or hung: give it the usual time, then replace it.
    if (await waitUntil(healthy, startTimeoutMs)) return;
    await stop();
  }
  if (await tcpOpen(ports.clickhouse)) {
    throw new Error(`port ${ports.clickhouse} is taken by something that is not a healthy ClickHouse`);
  }
  const pid = spawnDaemon({
    name,
    command: bunBinary,
    args: [serverScript, `--path=${serviceDataDir(name)}`, `--http-port=${ports.clickhouse}`],
    cwd: repoRoot,
  });
  await waitHealthy(pid);
}

/**
 * Clean stop: cancel the keep-alive query over HTTP, after which the engine call returns and the process
 * exits. Falls back to SIGTERM (the server turns it into the same cancel) and then SIGKILL.
 */
async function stop(): Promise<void> {
  const pid = readPid(name);
  const cancelled =
    (await healthy()) &&
    (await httpStatement(stopStatement, 10_000).then(
      () => true,
      () => false,
    ));
  const exited =
    pid === undefined || (await waitUntil(() => !isAlive(pid), cancelled ? cleanStopTimeoutMs : 0));
  if (!exited) await stopDaemon(name, 5_000);
  rmSync(pidFile(name), { force: true });
  if (!(await waitUntil(async () => !(await tcpOpen(ports.clickhouse)), portReleaseTimeoutMs))) {
    throw new Error(`clickhouse stopped but port ${ports.clickhouse} is still open`);
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

async function reset(): Promise<void> {
  await stop();
  rmSync(join(dataDir, name), { recursive: true, force: true });
}

/** The local ClickHouse 26.x server (chdb's engine behind its own HTTP interface). `restart` keeps data. */
export const clickhouseService: StackService & { restart(): Promise<void> } = {
  name,
  url,
  install,
  start,
  stop,
  healthy,
  reset,
  restart,
};

/** Connection settings for clients of the local server. */
export const localClickHouse = {
  url,
  username: "default",
  password: "",
  database: "tiergate",
} as const;
