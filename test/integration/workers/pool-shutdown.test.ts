import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { and, count, eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { PoolClient } from "../../../edge/services/pool-client.ts";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { clickhouseConfig } from "../../../workers/clickhouse/config.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { requests } from "../../../workers/db/schema.ts";
import { poolService } from "../../stack/gateway.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { repoRoot, stackDir } from "../../stack/paths.ts";

const env = localPoolEnv();
const port = 18_080;
const upstreamPort = 18_091;
const upstreamUrl = `http://127.0.0.1:${upstreamPort}/v1`;
const clickhouse = createClickHouse(clickhouseConfig(env));
const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
let pool: ChildProcess | undefined;
let upstream: ChildProcess | undefined;

afterAll(async () => {
  if (pool?.exitCode === null) pool.kill("SIGKILL");
  if (upstream?.exitCode === null) upstream.kill("SIGKILL");
  await clickhouse.close();
  await database.close();
});

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("pool did not become ready");
}

describe("pool graceful shutdown", () => {
  it("on SIGTERM finishes what it accepted, refuses the rest cleanly, and flushes every event and request row", async () => {
    await poolService.start(); // its ingest process moves events into ClickHouse
    // Every tier answers from an instant upstream, so the test exercises the pool, not the CPU model.
    upstream = spawn(
      join(repoRoot, "node_modules/.bin/bun"),
      ["test/bench/instant-upstream.ts", String(upstreamPort)],
      {
        cwd: repoRoot,
        stdio: "ignore",
      },
    );
    pool = spawn(join(repoRoot, "node_modules/.bin/bun"), ["workers/pool/supervisor.ts"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...env,
        POOL_PORT: String(port),
        POOL_PROCESSES: "1",
        SPOOL_DIR: join(stackDir, "spool-shutdown-test"),
        REGISTRY_SOURCE: "env",
        ROUTER_CLASSIFIER: "heuristic",
        VLLM_SMALL_BASE_URL: upstreamUrl,
        VLLM_MEDIUM_BASE_URL: upstreamUrl,
        VLLM_LARGE_BASE_URL: upstreamUrl,
        VLLM_EMBED_BASE_URL: upstreamUrl,
      },
      stdio: "ignore",
    });
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url);

    const client = new PoolClient([{ name: "test", url }], env.POOL_SIGNING_SECRET);
    const tenant = `shutdown-${Date.now()}`;
    let answered = 0;
    const statuses = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        try {
          const response = await client.call({
            method: "POST",
            path: "/internal/v1/chat/completions",
            body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: `shutdown ${i}` }] }),
            requestId: `shutdown-${tenant}-${i}`,
            tenant,
            deadline: Date.now() + 20_000,
          });
          await response.arrayBuffer();
          if (++answered === 100) pool?.kill("SIGTERM");
          return response.status;
        } catch {
          return 0; // connection refused once the listener closed
        }
      }),
    );
    const [exitCode] = (await once(pool, "exit")) as [number | null];
    expect(exitCode).toBe(0);

    const ok = statuses.filter((s) => s === 200).length;
    expect(ok).toBeGreaterThanOrEqual(100);
    expect(statuses.every((s) => s === 200 || s === 503 || s === 0)).toBe(true);

    // Request rows are written in batches; the worker flushes the last one before it exits.
    const [rows] = await database.db
      .select({ n: count() })
      .from(requests)
      .where(and(eq(requests.tenantId, tenant), eq(requests.status, 200)));
    expect(rows?.n).toBe(ok);

    const row = z.object({ events: z.number(), ids: z.number() });
    let counts = { events: 0, ids: 0 };
    for (let i = 0; i < 150 && counts.events < ok; i++) {
      const rows = await clickhouse.query(
        "SELECT count() AS events, uniqExact(request_id) AS ids FROM events FINAL WHERE tenant = {tenant:String}",
        { tenant },
        row,
      );
      counts = rows[0] ?? counts;
      if (counts.events < ok) await new Promise((r) => setTimeout(r, 200));
    }
    expect(counts).toEqual({ events: ok, ids: ok });
  });
});
