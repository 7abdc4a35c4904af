import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgeService, poolService } from "../../stack/gateway.ts";
import { repoRoot, stackDir } from "../../stack/paths.ts";
import { ensurePythonOpenAI } from "../../stack/python-sdk.ts";
import { type ReadmeBlock, readmeBlocks } from "./readme-blocks.ts";

const blocks = readmeBlocks(join(repoRoot, "README.md"));
let workDir = repoRoot;
let python = "python3";

/**
 * Where the blocks run: the checkout itself when its stack is `.stack`; otherwise a directory that
 * links every entry of the checkout and has `.stack` pointing at the stack in use, so the README's
 * relative paths (`.stack/dev-api-key`, `test/fixtures/…`) mean what they mean in a clone.
 */
function prepareWorkDir(): string {
  if (resolve(stackDir) === resolve(repoRoot, ".stack")) return repoRoot;
  const dir = mkdtempSync(join(tmpdir(), "tiergate-readme-"));
  for (const entry of readdirSync(repoRoot)) {
    if (entry !== ".stack") symlinkSync(join(repoRoot, entry), join(dir, entry));
  }
  symlinkSync(stackDir, join(dir, ".stack"));
  return dir;
}

/** Only what a new user's shell has: no tiergate variables but where the stack is. */
function userEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    // `npm start` serves in the foreground; here it returns once everything is up.
    TIERGATE_START_DETACHED: "1",
  };
  if (process.env.TIERGATE_STACK_DIR) env.TIERGATE_STACK_DIR = process.env.TIERGATE_STACK_DIR;
  return env;
}

/** The command that runs a block, as its language's interpreter would. */
function commandOf(block: ReadmeBlock, index: number): [string, string[]] {
  if (block.lang === "sh") {
    // `npm test` is what runs this test; every other line runs as written.
    const script = block.code
      .split("\n")
      .filter((line) => !line.startsWith("npm test"))
      .join("\n");
    return ["bash", ["-e", "-c", script]];
  }
  if (block.lang === "js") {
    const file = join(workDir, `.readme-block-${index}.mjs`);
    writeFileSync(file, block.code);
    return ["node", [file]];
  }
  if (block.lang === "python") {
    const file = join(workDir, `.readme-block-${index}.py`);
    writeFileSync(file, block.code);
    return [python, [file]];
  }
  throw new Error(`README line ${block.line}: no runner for ${block.lang}`);
}

beforeAll(async () => {
  // The pool and the edge must run this checkout's code.
  await Promise.all([poolService.stop(), edgeService.stop()]);
  await Promise.all([poolService.start(), edgeService.start()]);
  workDir = prepareWorkDir();
  python = await ensurePythonOpenAI();
}, 600_000);

afterAll(() => {
  for (const entry of readdirSync(workDir)) {
    if (entry.startsWith(".readme-block-")) rmSync(join(workDir, entry), { force: true });
  }
  if (workDir !== repoRoot) rmSync(workDir, { recursive: true, force: true });
});

describe("the README's commands and examples, run as written against the stack", () => {
  it("marks the quick start and an example of every kind", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(9);
    expect(new Set(blocks.map((b) => b.lang))).toEqual(new Set(["sh", "js", "python"]));
    expect(blocks[0]?.code).toContain("npm start");
  });

  blocks.forEach((block, index) => {
    it(`README line ${block.line} (${block.lang}) prints ${JSON.stringify(block.expect)}`, () => {
      const [command, args] = commandOf(block, index);
      const result = spawnSync(command, args, {
        cwd: workDir,
        env: userEnv(),
        encoding: "utf8",
        timeout: 300_000,
      });
      const output = `exit ${result.status}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
      expect(result.status, output).toBe(0);
      expect(result.stdout, output).toContain(block.expect);
      expect(result.stdout, output).not.toContain('"error":{');
    }, 320_000);
  });
});
