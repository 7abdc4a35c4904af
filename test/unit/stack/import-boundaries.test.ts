import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const biome = join(root, "node_modules/.bin/biome");

/** Files that cross a boundary, each with the import the project's Biome config must refuse. */
const violations: Record<string, string> = {
  "edge/routes/probe.ts":
    'import { createPoolApp } from "../../workers/pool/app.ts";\nexport const a = createPoolApp;\n',
  "edge/probe-type.ts":
    'import type { PoolServices } from "../workers/pool/services.ts";\nexport type A = PoolServices;\n',
  "workers/pool/probe.ts": 'export const load = () => import("../../edge/app.ts");\n',
  "shared/probe-edge.ts": 'export * from "../edge/types.ts";\n',
  "shared/probe-workers.ts": 'import { x } from "../workers/db/client.ts";\nexport const a = x;\n',
};

/** Imports the rule must allow: shared/ from either side, packages whose names merely contain a folder name. */
const allowed: Record<string, string> = {
  "edge/ok.ts":
    'import { GatewayError } from "../shared/errors.ts";\nimport type { ExecutionContext } from "@cloudflare/workers-types/latest";\nexport const a = GatewayError;\nexport type B = ExecutionContext;\n',
  "workers/pool/ok.ts":
    'import { GatewayError } from "../../shared/errors.ts";\nexport const a = GatewayError;\n',
  "shared/ok.ts":
    'import { z } from "zod";\nimport { edge } from "./edge.ts";\nexport const a = [z, edge];\n',
};

interface Diagnostic {
  category: string;
  location: { path: { file: string } | string };
}

function fileOf(diagnostic: Diagnostic): string {
  const { path } = diagnostic.location;
  return typeof path === "string" ? path : path.file;
}

/** Runs Biome's linter with the project's own biome.json over a scratch copy of the layout. */
function lint(dir: string): Promise<{ code: number; diagnostics: Diagnostic[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      biome,
      ["lint", "--vcs-enabled=false", "--reporter=json", "--max-diagnostics=none", "."],
      { cwd: dir },
      (error, stdout) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        try {
          const report = JSON.parse(stdout) as { diagnostics: Diagnostic[] };
          resolve({ code, diagnostics: report.diagnostics });
        } catch (parseError: unknown) {
          reject(new Error(`biome printed no JSON report (exit ${code}): ${stdout}`, { cause: parseError }));
        }
      },
    );
  });
}

describe("import boundaries (Biome noRestrictedImports, the config npm run check uses)", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tiergate-boundaries-"));
    await copyFile(join(root, "biome.json"), join(dir, "biome.json"));
    for (const [path, text] of Object.entries({ ...violations, ...allowed })) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("fails on every deliberate violation and on nothing else", async () => {
    const { code, diagnostics } = await lint(dir);
    expect(code).not.toBe(0);
    const restricted = diagnostics.filter((d) => d.category === "lint/style/noRestrictedImports");
    const flagged = new Set(restricted.map(fileOf));
    expect([...flagged].sort()).toEqual(Object.keys(violations).sort());
  });
});
