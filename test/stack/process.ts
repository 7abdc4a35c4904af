import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { ensureStackDirs, logsDir, pidsDir } from "./paths.ts";

/** Thrown when a piece of the stack is missing and cannot be installed here. */
export class MissingPieceError extends Error {
  constructor(piece: string, howToGet: string) {
    super(`missing piece: ${piece}. ${howToGet}`);
    this.name = "MissingPieceError";
  }
}

export function pidFile(name: string): string {
  return join(pidsDir, `${name}.pid`);
}

export function logFile(name: string): string {
  return join(logsDir, `${name}.log`);
}

export function readPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
  return Number.isFinite(pid) ? pid : undefined;
}

/**
 * The fields of `/proc/<pid>/stat` after the command name: [0] state, [1] parent pid, [11] utime,
 * [12] stime (clock ticks). Throws if the process is gone.
 */
export function procStat(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The running children of `parent`, with their command lines (arguments joined by NULs). */
export function childProcesses(parent: number): { pid: number; command: string }[] {
  const children: { pid: number; command: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      if (Number(procStat(pid)[1]) !== parent) continue;
      children.push({ pid, command: readFileSync(`/proc/${pid}/cmdline`, "utf8") });
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

/** True while the process runs; a zombie (exited, not yet reaped by its parent) counts as gone. */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return procStat(pid)[0] !== "Z";
  } catch {
    return true;
  }
}

export interface DaemonOptions {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this Unix user (via runuser), e.g. postgres refuses to run as root. */
  user?: string;
}

/** Starts a detached background process whose output goes to `.stack/logs/<name>.log`. */
export function spawnDaemon(opts: DaemonOptions): number {
  ensureStackDirs();
  const out = openSync(logFile(opts.name), "a");
  const [command, args] = opts.user
    ? ["runuser", ["-u", opts.user, "--", opts.command, ...opts.args]]
    : [opts.command, opts.args];
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${opts.name}`);
  child.unref();
  writeFileSync(pidFile(opts.name), String(child.pid));
  return child.pid;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `timeoutMs` passes; then throws naming the service and its log. */
export async function waitFor(
  name: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(intervalMs);
  }
  throw new Error(`${name} did not become healthy within ${timeoutMs} ms; see ${logFile(name)}`);
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILLs the process group. */
export async function stopDaemon(name: string, graceMs = 10_000): Promise<void> {
  const pid = readPid(name);
  if (isAlive(pid) && pid !== undefined) {
    signalGroup(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(pid)) signalGroup(pid, "SIGKILL");
    while (isAlive(pid)) await sleep(20);
  }
  rmSync(pidFile(name), { force: true });
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** True when something accepts TCP connections on host:port. */
export function tcpOpen(port: number, host = "127.0.0.1", timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Runs a command to completion and returns its stdout; throws with stderr on a non-zero exit. */
export function run(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; user?: string } = {},
): Promise<string> {
  const [cmd, argv] = opts.user ? ["runuser", ["-u", opts.user, "--", command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: opts.cwd, env: { ...process.env, ...opts.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${cmd} ${argv.join(" ")} exited ${code}: ${stderr || stdout}`));
    });
  });
}

/** Whether an executable is on PATH. */
export async function hasCommand(command: string): Promise<boolean> {
  return run("sh", ["-c", `command -v ${command}`]).then(
    () => true,
    () => false,
  );
}

let aptUpdated = false;
// Services install concurrently (`stack up` starts a group at once) but apt holds one dpkg lock:
// chain installs in this process, and let apt wait for a lock held by another process.
let aptQueue: Promise<void> = Promise.resolve();
const aptLockWait = ["-o", "DPkg::Lock::Timeout=300"];
/** Installs Debian packages when missing; names the piece when apt is not available. */
export async function aptInstall(piece: string, packages: string[]): Promise<void> {
  if (!(await hasCommand("apt-get"))) {
    throw new MissingPieceError(
      piece,
      `Install the Debian packages ${packages.join(" ")} (or your OS's equivalent).`,
    );
  }
  const install = aptQueue.then(async () => {
    if (!aptUpdated) {
      await run("apt-get", [...aptLockWait, "update", "-qq"]);
      aptUpdated = true;
    }
    await run("apt-get", [...aptLockWait, "install", "-y", "-qq", "--no-install-recommends", ...packages], {
      env: { DEBIAN_FRONTEND: "noninteractive" },
    });
  });
  aptQueue = install.catch(() => undefined);
  await install;
}
