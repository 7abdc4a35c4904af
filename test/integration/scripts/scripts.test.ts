import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { RequestEvent } from "../../../shared/events.ts";
import { localDatabaseUrl } from "../../stack/local-env.ts";
import { repoRoot } from "../../stack/paths.ts";
import { host, ports } from "../../stack/ports.ts";
import { localClickHouse } from "../../stack/services/clickhouse.ts";
import { localClient } from "../clickhouse/local-clickhouse.ts";
import { dropTenantRag } from "../retrieval/demo-corpus.ts";

const tenant = `scripts-${randomUUID().slice(0, 8)}`;
const ch = localClient(localClickHouse.database, 60_000);
const scratch = mkdtempSync(join(tmpdir(), "tiergate-scripts-"));
/** A stack dir without the local stack's settings: scripts see only the environment given. */
const noStackDir = join(scratch, "no-stack");

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run <script> -- args` as a new user runs it: PATH and HOME, no tiergate variables but where the
 * stack is (the harness's TIERGATE_STACK_DIR, if any), plus `extra`.
 */
function npmRun(script: string, args: string[], extra: Record<string, string> = {}): Run {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/",
  };
  if (process.env.TIERGATE_STACK_DIR) env.TIERGATE_STACK_DIR = process.env.TIERGATE_STACK_DIR;
  const result = spawnSync("npm", ["run", "--silent", script, "--", ...args], {
    cwd: repoRoot,
    env: { ...env, ...extra },
    encoding: "utf8",
    timeout: 180_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const described = (run: Run) => `exit ${run.status}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

function event(requestId: string): RequestEvent {
  return {
    event_id: randomUUID(),
    ts: Date.now(),
    request_id: requestId,
    tenant,
    user_id: "",
    route: "chat",
    tier: "small",
    model: "tiergate-small",
    model_version: "",
    provider: "openai-compatible",
    status: 200,
    cache: "MISS",
    fallback_reason: "",
    queue_ms: 0,
    ttft_ms: 5,
    latency_ms: 9,
    prompt_tokens: 3,
    completion_tokens: 4,
  };
}

beforeAll(() => {
  mkdirSync(noStackDir, { recursive: true });
});

afterAll(async () => {
  await dropTenantRag(ch, tenant);
  await ch.command("DELETE FROM events WHERE tenant = {tenant:String}", { tenant }).catch(() => {});
  await ch.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe("scripts run with no environment on a checkout whose stack is up", () => {
  it("npm run keys: create, list, and an empty list that says so", () => {
    const created = npmRun("keys", ["create", "--tenant", tenant]);
    expect(created.status, described(created)).toBe(0);
    const key = z
      .object({ key: z.string(), id: z.string(), tenant: z.literal(tenant) })
      .parse(JSON.parse(created.stdout));
    const listed = npmRun("keys", ["list", "--tenant", tenant]);
    expect(listed.status, described(listed)).toBe(0);
    expect(listed.stdout).toContain(key.id);
    expect(listed.stdout).toContain("60/min");
    const empty = npmRun("keys", ["list", "--tenant", `${tenant}-none`]);
    expect(empty.status, described(empty)).toBe(0);
    expect(empty.stdout.trim()).toBe(`no keys for tenant ${tenant}-none`);
  });

  it("npm run registry -- list", () => {
    const listed = npmRun("registry", ["list"]);
    expect(listed.status, described(listed)).toBe(0);
    expect(listed.stdout).toMatch(/^small +active/m);
  });

  it("npm run migrate", () => {
    const migrated = npmRun("migrate", []);
    expect(migrated.status, described(migrated)).toBe(0);
    expect(migrated.stdout).toContain("postgres: migrations applied");
    expect(migrated.stdout).toContain(`clickhouse: migrations applied to ${localClickHouse.database}`);
  });

  it("npm run backfill:docs, keeping the threshold as given", async () => {
    const docs = join(scratch, "docs");
    mkdirSync(docs, { recursive: true });
    writeFileSync(join(docs, "refunds.md"), "# Refunds\n\nRefunds are paid within 14 days of a request.\n");
    writeFileSync(join(docs, "shipping.txt"), "Parcels ship from Lyon every weekday.\n");
    const run = npmRun("backfill:docs", [
      docs,
      "--collection",
      "handbook",
      "--tenant",
      tenant,
      "--threshold",
      "0.45",
    ]);
    expect(run.status, described(run)).toBe(0);
    const rows = await ch.query(
      `SELECT source, metadata['format'] AS format FROM rag_chunks
       WHERE tenant = {tenant:String} AND collection = 'handbook' ORDER BY source`,
      { tenant },
      z.object({ source: z.string(), format: z.string() }),
    );
    expect(rows).toEqual([
      { source: "refunds.md", format: "markdown" },
      { source: "shipping.txt", format: "text" },
    ]);
    const [collection] = await ch.query(
      "SELECT threshold FROM rag_collections FINAL WHERE tenant = {tenant:String} AND collection = 'handbook'",
      { tenant },
      z.object({ threshold: z.number() }),
    );
    expect(collection?.threshold).toBe(0.45);
  });

  it("npm run backfill:events -- --jsonl FILE", async () => {
    const file = join(scratch, "events.jsonl");
    const ids = [`req-${randomUUID()}`, `req-${randomUUID()}`];
    writeFileSync(file, `${ids.map((id) => JSON.stringify(event(id))).join("\n")}\nnot json\n`);
    const run = npmRun("backfill:events", ["--jsonl", file]);
    expect(run.status, described(run)).toBe(0);
    expect(run.stdout).toContain("2 events inserted of 3 read (1 invalid, 0 out of range)");
    const rows = await ch.query(
      "SELECT request_id FROM events FINAL WHERE tenant = {tenant:String} ORDER BY request_id",
      { tenant },
      z.object({ request_id: z.string() }),
    );
    expect(rows.map((r) => r.request_id)).toEqual([...ids].sort());
  });

  it("takes DATABASE_URL and NEON_WS_PROXY as `npm start` prints them; a set variable wins over the stack", () => {
    const printed = { DATABASE_URL: localDatabaseUrl, NEON_WS_PROXY: `ws://${host}:${ports.neonProxy}/v1` };
    const listed = npmRun("keys", ["list", "--tenant", tenant], {
      ...printed,
      TIERGATE_STACK_DIR: noStackDir,
    });
    expect(listed.status, described(listed)).toBe(0);
    expect(listed.stdout).toContain("60/min");
    const wrong = npmRun("keys", ["list"], { DATABASE_URL: "postgresql://nobody:x@127.0.0.1:1/none" });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^keys: /m);
  });
});

describe("script errors are for people", () => {
  it("names each bad option as `--option: message`, then the usage; never zod's JSON", () => {
    const run = npmRun("keys", ["create", "--tenant", "bad tenant!", "--rate-limit", "abc"]);
    expect(run.status).toBe(64);
    expect(run.stderr).toContain("keys: --tenant: letters, digits, '_', '.', '-' (at most 128)\n");
    expect(run.stderr).toContain("--rate-limit: must be a whole number\n");
    expect(run.stderr).toContain("usage: npm run keys");
    expect(run.stderr).not.toMatch(/"code":|"expected":|NaN/);
  });

  it("lists missing settings as `KEY: not set` and says where they come from", () => {
    const run = npmRun("backfill:docs", [scratch, "--collection", "x"], { TIERGATE_STACK_DIR: noStackDir });
    expect(run.status).toBe(78);
    expect(run.stderr).toContain("backfill: bad configuration\n  CLICKHOUSE_URL: not set\n");
    expect(run.stderr).toContain(join(noStackDir, "local-env.json"));
    const noUser = npmRun("keys", ["list"], {
      TIERGATE_STACK_DIR: noStackDir,
      DATABASE_URL: `postgresql://${host}:${ports.postgres}/tiergate`,
    });
    expect(noUser.status).toBe(78);
    expect(noUser.stderr).toContain(
      "DATABASE_URL: needs a user and password: postgresql://user:password@host:port/database",
    );
  });

  it("prints usage for --help and for no command", () => {
    for (const script of ["keys", "registry", "backfill:docs", "backfill:events", "migrate"]) {
      const help = npmRun(script, ["--help"], { TIERGATE_STACK_DIR: noStackDir });
      expect(help.status, described(help)).toBe(0);
      expect(help.stdout).toMatch(/^usage: npm run /);
    }
    const none = npmRun("registry", []);
    expect(none.status).toBe(64);
    expect(none.stderr).toContain("registry: a command is needed");
    const events = npmRun("backfill:events", []);
    expect(events.status).toBe(64);
    expect(events.stderr).toContain("give exactly one of --jsonl FILE and --from-offset N|earliest");
  });
});
