// Installs npm dependencies when node_modules is missing or older than the lockfile.
// Runs under plain Node before anything else, so it may only use Node's standard library.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const lock = join(root, "package-lock.json");
const marker = join(root, "node_modules", ".package-lock.json");

const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
// `npm ci` refuses this lockfile: chdb lists optional platform packages (darwin, linux-arm64) that the
// registry does not serve, so they can never be recorded. `npm install` honours the lockfile and skips them.
if (stale) {
  console.log("tiergate: installing npm dependencies (npm install from the lockfile)…");
  const result = spawnSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
