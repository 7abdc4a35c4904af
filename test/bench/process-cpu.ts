/**
 * CPU time per process group during a bench row, read from /proc (utime + stime), and pinning of
 * groups to cores with `taskset`. Lets `bench:edge` say what each gateway costs per request and what
 * one dedicated core would give it, independent of what else shares the machine.
 */

import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { childProcesses, procStat, readPid } from "../stack/process.ts";

/** Clock ticks per second of utime/stime (`getconf CLK_TCK`; 100 on Linux x86-64). */
const ticksPerSecond = 100;

/** A named group of processes, resolved to pids each time it is read (a worker may restart). */
export type ProcessGroups = Record<string, () => number[]>;

/** `pid` and every process below it. */
export function processTree(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const child of childProcesses(out[i] ?? 0)) out.push(child.pid);
  }
  return out;
}

/** The process tree of a daemon started under `name` (empty when it is not running). */
export const daemonTree = (name: string) => () => processTree(readPid(name));

function ticksOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = procStat(pid);
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended between listing and reading
    }
  }
  return ticks;
}

/** CPU ticks used so far by each group. */
export function cpuSnapshot(groups: ProcessGroups): Record<string, number> {
  return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, ticksOf(pids())]));
}

export interface CpuUse {
  /** CPU microseconds per request counted (edge.ts: per 2xx answer), per group; groups that used none are left out. */
  us_per_request: Record<string, number>;
  /** Cores used on average over the interval, per group. */
  cores: Record<string, number>;
}

/** What each group used between two snapshots, per request and in cores. */
export function cpuUse(options: {
  before: Record<string, number>;
  after: Record<string, number>;
  requests: number;
  seconds: number;
}): CpuUse {
  const use: CpuUse = { us_per_request: {}, cores: {} };
  for (const [name, end] of Object.entries(options.after)) {
    const ticks = end - (options.before[name] ?? end);
    if (ticks <= 0) continue;
    const cpuSeconds = ticks / ticksPerSecond;
    use.us_per_request[name] = Math.round((cpuSeconds * 1e6) / Math.max(1, options.requests));
    use.cores[name] = Math.round((cpuSeconds / Math.max(0.001, options.seconds)) * 100) / 100;
  }
  return use;
}

/** Sets the CPU affinity of every thread of every process in `pids` (`taskset -a -p -c`). */
export function pin(pids: number[], cpus: string): void {
  for (const pid of pids) {
    try {
      execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
    } catch {
      // the process ended, or the kernel refused (e.g. a kernel thread): leave it where it is
    }
  }
}

/** Every core of this machine, as taskset's list syntax (`0-1` on two cores). */
export const allCores = `0-${availableParallelism() - 1}`;

/**
 * Puts the groups named in `alone` on the last core and every other group on the remaining ones, so
 * the gateway under test has a core to itself; `unpin` puts every group back on every core.
 */
export function pinAlone(groups: ProcessGroups, alone: string[]): void {
  const last = availableParallelism() - 1;
  const rest = last === 0 ? "0" : `0-${Math.max(0, last - 1)}`;
  for (const [name, pids] of Object.entries(groups)) pin(pids(), alone.includes(name) ? String(last) : rest);
}

/** Every group back on every core. */
export function unpin(groups: ProcessGroups): void {
  for (const pids of Object.values(groups)) pin(pids(), allCores);
}
