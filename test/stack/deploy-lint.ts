import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, stackDir } from "./paths.ts";
import { MissingPieceError } from "./process.ts";

const sourceDir = join(repoRoot, "test", "stack", "deploy-lint");
const binary = join(stackDir, "bin", "deploy-lint");

function newestSource(): number {
  return Math.max(...readdirSync(sourceDir).map((name) => statSync(join(sourceDir, name)).mtimeMs));
}

/**
 * Builds `test/stack/deploy-lint` (Go: the Kubernetes API types, compose-go and BuildKit's Dockerfile
 * parser, from the Go module proxy) into `.stack/bin/` once, and again when its sources change.
 */
export function deployLint(): string {
  if (existsSync(binary) && statSync(binary).mtimeMs >= newestSource()) return binary;
  if (spawnSync("go", ["version"]).status !== 0) {
    throw new MissingPieceError(
      "go",
      "Install Go (Debian: apt-get install golang) to check the deploy files.",
    );
  }
  mkdirSync(join(stackDir, "bin"), { recursive: true });
  const build = spawnSync("go", ["build", "-o", binary, "."], { cwd: sourceDir, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`go build of deploy-lint failed: ${build.stderr}`);
  return binary;
}

/** Runs deploy-lint; `ok` is its exit status 0, `output` what it printed. */
export function runDeployLint(args: string[]): { ok: boolean; output: string } {
  const run = spawnSync(deployLint(), args, { cwd: repoRoot, encoding: "utf8" });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}
