/**
 * The allocator's own view of workerd's native memory. workerd links Google's tcmalloc (symbols
 * included) and runs no background thread for it, so freed pages stay in tcmalloc's caches and
 * resident, never returned to the OS: RSS keeps the high-water mark of native use. This reads
 * tcmalloc's counters through gdb (`MallocExtension_Internal_GetNumericProperty`, which attaching
 * pauses the process for a moment) and can ask it to release its free pages
 * (`MallocExtension_Internal_ReleaseMemoryToSystem`), which tells memory in use from memory held.
 * Diagnostics for benches only; nothing in the gateway depends on it.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** tcmalloc's numeric properties read, by the name the result uses. */
const properties = {
  allocated_mb: "generic.current_allocated_bytes",
  heap_mb: "generic.heap_size",
  physical_mb: "generic.physical_memory_used",
  pageheap_free_mb: "tcmalloc.pageheap_free_bytes",
  pageheap_unmapped_mb: "tcmalloc.pageheap_unmapped_bytes",
  cpu_cache_free_mb: "tcmalloc.cpu_free",
  transfer_cache_free_mb: "tcmalloc.transfer_cache_free",
  central_cache_free_mb: "tcmalloc.central_cache_free",
} as const;

/** tcmalloc's counters in MB (NaN when one could not be read). */
export type TcmallocStats = Record<keyof typeof properties, number>;

/** The gdb script that prints each property as `name value`, after releasing free pages if asked. */
export function tcmallocScript(release: boolean): string {
  const lines = ["set $v = (unsigned long*) malloc(8)"];
  if (release) lines.push("call (void) MallocExtension_Internal_ReleaseMemoryToSystem(1099511627776)");
  for (const [name, property] of Object.entries(properties)) {
    lines.push(`set *$v = 0`);
    lines.push(
      `call (void) MallocExtension_Internal_GetNumericProperty("${property}", ${property.length}, $v)`,
    );
    lines.push(`printf "tcmalloc ${name} %lu\\n", *$v`);
  }
  lines.push("call (void) free($v)");
  return `${lines.join("\n")}\n`;
}

/** Parses the script's output into MB per property. */
export function parseTcmallocOutput(output: string): TcmallocStats {
  const stats = {} as TcmallocStats;
  for (const name of Object.keys(properties) as (keyof typeof properties)[]) {
    const bytes = Number(new RegExp(`^tcmalloc ${name} (\\d+)$`, "m").exec(output)?.[1] ?? Number.NaN);
    stats[name] = Math.round((bytes / 2 ** 20) * 10) / 10;
  }
  return stats;
}

/**
 * tcmalloc's counters of `pid` (and, with `release`, after releasing its free pages to the OS), or
 * the reason they could not be read (no gdb, no ptrace permission, no tcmalloc symbols).
 */
export function readTcmallocStats(pid: number, release = false): TcmallocStats | { unavailable: string } {
  const dir = mkdtempSync(join(tmpdir(), "tcmalloc-"));
  const script = join(dir, "stats.gdb");
  writeFileSync(script, tcmallocScript(release));
  const run = spawnSync("gdb", ["-p", String(pid), "-batch", "-nx", "-x", script], {
    encoding: "utf8",
    timeout: 60_000,
  });
  rmSync(dir, { recursive: true, force: true });
  if (run.error) return { unavailable: run.error.message };
  const stats = parseTcmallocOutput(run.stdout ?? "");
  if (Number.isNaN(stats.allocated_mb)) return { unavailable: (run.stderr ?? "").trim().slice(-200) };
  return stats;
}
