/**
 * What a process holds besides its heap, read from /proc: open descriptors (and how many are sockets),
 * anonymous vs file-backed resident memory, and the established TCP connections on a listening port,
 * so a soak can tell a growing connection or descriptor count from allocator growth.
 */

import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Descriptors of `pid`: all, and those that are sockets. */
export function descriptorCounts(pid: number): { fds: number; sockets: number } {
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets++;
    } catch {
      // closed while we looked
    }
  }
  return { fds, sockets };
}

/** Resident memory of `pid` in MB, split into anonymous (heaps, malloc) and file-backed pages. */
export function residentSplitMb(pid: number): { anon_mb: number; file_mb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? Number.NaN);
  const mb = (value: number) => Math.round((value / 1024) * 10) / 10;
  return { anon_mb: mb(kb("RssAnon")), file_mb: mb(kb("RssFile") + kb("RssShmem")) };
}

/**
 * Established TCP connections whose local port is `port` (the server's side of each client
 * connection), from `/proc/net/tcp` (IPv4): column 2 is `ADDR:PORT` in hex, column 4 the state, `01`
 * established.
 */
export function establishedOnPort(port: number, table = readFileSync("/proc/net/tcp", "utf8")): number {
  const wanted = port.toString(16).toUpperCase().padStart(4, "0");
  let count = 0;
  for (const line of table.split("\n").slice(1)) {
    const columns = line.trim().split(/\s+/);
    if (columns[1]?.split(":")[1] === wanted && columns[3] === "01") count++;
  }
  return count;
}
