import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { poolService } from "../../stack/gateway.ts";
import { resultsDir, writeResults } from "../../stack/paths.ts";
import { ensureSchemathesis, schemathesisHooksDir } from "../../stack/schemathesis/install.ts";
import { type ExtraEdge, startWranglerEdge } from "../edge/wrangler-edge.ts";

/** Test cases per operation and phase: bounded, so the run takes a couple of minutes on 2 cores. */
const maxExamples = 12;
const seed = 20_261_206;

let st = "";
let edge: ExtraEdge;
let apiKey = "";

beforeAll(async () => {
  st = await ensureSchemathesis();
  await poolService.start();
  // This worktree's edge (workerd), in front of the stack's pool, Redis and Postgres.
  edge = await startWranglerEdge("edge-fuzz", 8798, {});
  apiKey = (await createTestApiKey(`fuzz-${Date.now()}`, { rateLimitPerMinute: 100_000 })).key;
}, 600_000);

afterAll(async () => {
  await edge?.stop();
});

interface Run {
  code: number | null;
  output: string;
}

function runSchemathesis(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(st, args, {
      env: {
        ...process.env,
        SCHEMATHESIS_HOOKS: "hooks",
        PYTHONPATH: schemathesisHooksDir,
        NO_COLOR: "1",
      },
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("fuzzing the edge from its own /openapi.json (schemathesis)", () => {
  it("every operation: no 5xx, responses match the documented schemas, every 4xx is OpenAI's error shape", async () => {
    const document = (await (await fetch(`${edge.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThanOrEqual(4);

    const reportPath = join(resultsDir, "fuzz-schemathesis-report.json");
    const run = await runSchemathesis([
      "run",
      `${edge.url}/openapi.json`,
      "--url",
      edge.url,
      "--checks",
      "not_a_server_error,response_schema_conformance,openai_error_shape",
      "--phases",
      "examples,coverage,fuzzing",
      "--max-examples",
      String(maxExamples),
      "--seed",
      String(seed),
      "--workers",
      "2",
      "--request-timeout",
      "60",
      "--generation-database",
      "none",
      "--no-color",
      "--header",
      `Authorization: Bearer ${apiKey}`,
      "--report",
      "json",
      "--report-json-path",
      reportPath,
    ]);
    const summary = run.output.split("\n").slice(-60).join("\n");
    writeResults("fuzz-schemathesis", {
      operations,
      maxExamples,
      seed,
      exitCode: run.code,
      summary,
      report: (() => {
        try {
          return JSON.parse(readFileSync(reportPath, "utf8")) as unknown;
        } catch {
          return null;
        }
      })(),
    });
    // Every documented operation was exercised, and schemathesis found no failure of any check.
    for (const operation of operations) expect(run.output, summary).toContain(operation);
    expect(run.output, summary).not.toMatch(/\bFAILURES\b/);
    expect(run.code, summary).toBe(0);
  }, 600_000);
});
