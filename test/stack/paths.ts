import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (two levels above this file). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Git-ignored folder holding all local-stack data, logs, pids and results. */
export const stackDir = process.env.TIERGATE_STACK_DIR ?? join(repoRoot, ".stack");
export const logsDir = join(stackDir, "logs");
export const pidsDir = join(stackDir, "pids");
export const dataDir = join(stackDir, "data");
export const resultsDir = join(stackDir, "results");

/** Returns a path under `.stack/data/<name>`, created on first use. */
export function serviceDataDir(name: string): string {
  const dir = join(dataDir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function ensureStackDirs(): void {
  for (const dir of [stackDir, logsDir, pidsDir, dataDir, resultsDir]) mkdirSync(dir, { recursive: true });
}

/** Writes a bench's or an eval's numbers to `.stack/results/<name>.json`; returns the file's path. */
export function writeResults(name: string, value: unknown): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}
