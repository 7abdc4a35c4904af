import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { poolService } from "../../stack/gateway.ts";
import { resultsDir, stackDir, writeResults } from "../../stack/paths.ts";
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

interface Report {
  complete: boolean;
  exit_code: number;
  operations: { total: number; tested: number; errored: number };
  test_cases: { generated: number; with_failures: number; errored: number };
  failures: unknown[];
  errors: unknown[];
}

function readReport(path: string): Report | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Report;
  } catch {
    return null;
  }
}

interface Run {
  code: number | null;
  output: string;
}

function runSchemathesis(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Its own working directory under the stack dir: schemathesis keeps a cache (.schemathesis/) there.
    const cwd = join(stackDir, "schemathesis");
    mkdirSync(cwd, { recursive: true });
    const child = spawn(st, args, {
      cwd,
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
    // Schemathesis does not fuzz the document it was given (GET /openapi.json); every other operation.
    const operations = Object.entries(document.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
      .filter((operation) => operation !== "GET /openapi.json");
    expect(operations.length).toBeGreaterThanOrEqual(4);

    const reportPath = join(resultsDir, "fuzz-schemathesis-report.json");
    rmSync(reportPath, { force: true });
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
      // One worker: CPython 3.11's ast.parse is not thread-safe ("AST constructor recursion depth
      // mismatch"), and Hypothesis parses lambda sources while two workers build coverage cases.
      "--workers",
      "1",
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
    const report = readReport(reportPath);
    writeResults("fuzz-schemathesis", { operations, maxExamples, seed, exitCode: run.code, report });
    // Every documented operation was exercised, and no check failed on any generated case: no 5xx, every
    // response matched its documented schema, every 4xx was OpenAI's error shape (hooks.py).
    expect(report, summary).toMatchObject({
      complete: true,
      exit_code: 0,
      operations: { total: operations.length, tested: operations.length, errored: 0 },
      test_cases: { with_failures: 0, errored: 0 },
      failures: [],
      errors: [],
    });
    expect(report?.test_cases.generated).toBeGreaterThan(operations.length * maxExamples);
    expect(run.code, summary).toBe(0);
  }, 600_000);

  it("the suite's error-shape check fails a 4xx that is not OpenAI's error shape", async () => {
    const document = {
      openapi: "3.1.0",
      info: { title: "not openai", version: "1" },
      paths: {
        "/thing": {
          get: {
            responses: { "400": { description: "bad", content: { "application/json": { schema: {} } } } },
          },
        },
      },
    };
    const server = createServer((req, res) => {
      if (req.url === "/openapi.json") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(document));
        return;
      }
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ detail: "no" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const run = await runSchemathesis([
        "run",
        `${url}/openapi.json`,
        "--url",
        url,
        "--checks",
        "openai_error_shape",
        "--max-examples",
        "2",
        "--generation-database",
        "none",
        "--no-color",
      ]);
      expect(run.code).not.toBe(0);
      expect(run.output).toContain("4xx body has no error object");
    } finally {
      server.close();
    }
  }, 120_000);
});
