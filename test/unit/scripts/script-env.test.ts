import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  localStackEnvPath,
  parseLocalStackEnv,
  withLocalStackDefaults,
} from "../../../edge/lib/local-bindings.ts";
import {
  CliError,
  countOption,
  databaseEnvShape,
  formatIssues,
  loadScriptEnv,
  parseOptions,
  stackEnvFile,
} from "../../../workers/scripts/lib/script-env.ts";

const dir = mkdtempSync(join(tmpdir(), "script-env-"));
const file = join(dir, "local-env.json");
writeFileSync(
  file,
  JSON.stringify({ DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/db", NEON_WS_PROXY: "h:1/v1" }),
);
const schema = z.object(databaseEnvShape);

function thrown(fn: () => unknown): CliError {
  try {
    fn();
  } catch (error: unknown) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("did not throw");
}

describe("loadScriptEnv", () => {
  it("fills unset variables from the local stack's file; a set variable wins; empty counts as unset", () => {
    expect(loadScriptEnv(schema, { env: {}, file })).toEqual({
      DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/db",
      NEON_WS_PROXY: "h:1/v1",
    });
    const env = { DATABASE_URL: "postgresql://me:pw@db.example:5432/prod", NEON_WS_PROXY: "" };
    expect(loadScriptEnv(schema, { env, file })).toEqual({
      DATABASE_URL: "postgresql://me:pw@db.example:5432/prod",
      NEON_WS_PROXY: "h:1/v1",
    });
  });

  it("reads the file from TIERGATE_STACK_DIR", () => {
    expect(stackEnvFile({ TIERGATE_STACK_DIR: dir })).toBe(file);
    expect(loadScriptEnv(schema, { env: { TIERGATE_STACK_DIR: dir } }).NEON_WS_PROXY).toBe("h:1/v1");
  });

  it("lists every problem as `KEY: message` lines (exit 78), saying where settings come from", () => {
    const missing = join(dir, "absent.json");
    const error = thrown(() =>
      loadScriptEnv(z.object({ ...databaseEnvShape, CLICKHOUSE_URL: z.url() }), {
        env: { DATABASE_URL: "postgresql://127.0.0.1:5432/db" },
        file: missing,
      }),
    );
    expect(error.exitCode).toBe(78);
    expect(error.message).toBe(
      [
        "bad configuration",
        "  DATABASE_URL: needs a user and password: postgresql://user:password@host:port/database",
        "  CLICKHOUSE_URL: not set",
        `Set these variables, or start the local stack (npm run stack -- up): scripts then read its ${missing}.`,
      ].join("\n"),
    );
  });

  it("names a broken settings file", () => {
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{");
    expect(thrown(() => loadScriptEnv(schema, { env: {}, file: broken })).message).toContain(
      "not valid JSON",
    );
  });
});

describe("command-line options", () => {
  const options = z.object({ tenant: z.string().min(3, "too short"), batch: countOption });

  it("name each bad option, then the usage (exit 64); a missing one is `missing`", () => {
    const error = thrown(() => parseOptions(options, { tenant: "ab", batch: "x1" }, "usage: x"));
    expect(error.exitCode).toBe(64);
    expect(error.message).toBe("--tenant: too short\n--batch: must be a whole number\n\nusage: x");
    expect(thrown(() => parseOptions(options, { batch: "0" }, "u")).message).toBe(
      "--tenant: missing\n--batch: must be at least 1\n\nu",
    );
  });

  it("formatIssues writes `key: message` without JSON", () => {
    const parsed = z.object({ a: z.object({ b: z.number() }) }).safeParse({ a: { b: "x" } });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(formatIssues(parsed.error, { a: {} })).toMatch(/^a\.b: [^{]+$/);
  });
});

describe("the Deno edge's local bindings", () => {
  it("fills unset bindings from the stack's file; set ones win; no file changes nothing", () => {
    const local = parseLocalStackEnv(
      JSON.stringify({ POOL_REGIONS: "local=http://x", EDGE_PORT: "8788", n: 1 }),
    );
    expect(local).toEqual({ POOL_REGIONS: "local=http://x", EDGE_PORT: "8788" });
    expect(withLocalStackDefaults({ EDGE_PORT: "9000", HOME: "/h", POOL_REGIONS: "" }, local)).toEqual({
      POOL_REGIONS: "local=http://x",
      EDGE_PORT: "9000",
      HOME: "/h",
    });
    expect(parseLocalStackEnv(undefined)).toEqual({});
    expect(parseLocalStackEnv("not json")).toEqual({});
  });

  it("finds the file in TIERGATE_STACK_DIR, else in the checkout's .stack", () => {
    const root = new URL("file:///src/my%20clone/");
    expect(localStackEnvPath({ TIERGATE_STACK_DIR: "/s/" }, root)).toBe("/s/local-env.json");
    expect(localStackEnvPath({}, root)).toBe("/src/my clone/.stack/local-env.json");
  });
});
