import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../shared/logger.ts";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { clickhouseConfig } from "../../../workers/clickhouse/config.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { jobLeases } from "../../../workers/db/schema.ts";
import { driftJobDeps } from "../../../workers/drift/deps.ts";
import { driftLeaseName, runDriftJobWithLease } from "../../../workers/drift/job.ts";
import { readLease, releaseLease, tryAcquireLease } from "../../../workers/drift/lease.ts";
import {
  type DriftSchedulerOptions,
  startDriftScheduler,
  triggerDriftRun,
} from "../../../workers/drift/scheduler.ts";
import { workerEnvSchema } from "../../../workers/pool/env.ts";
import { poolService } from "../../stack/gateway.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { eventually } from "../router/harness.ts";

const config = workerEnvSchema.parse(localPoolEnv());
const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
const clickhouse = createClickHouse(clickhouseConfig(config));
const options: DriftSchedulerOptions = {
  poolUrl: `http://${config.POOL_HOST}:${config.POOL_PORT}`,
  signingSecret: config.POOL_ADMIN_SECRETS.get("scheduler") ?? "",
  credential: "scheduler",
  periodMs: 200,
};

beforeAll(async () => {
  await poolService.start();
});
afterAll(async () => {
  await database.close();
  await clickhouse.close();
});

describe("drift lease", () => {
  const lease = `drift-test-${Date.now().toString(36)}`;
  afterAll(async () => {
    await database.db.delete(jobLeases).where(eq(jobLeases.name, lease));
  });
  const deps = () => ({
    ...driftJobDeps({
      config,
      db: database.db,
      clickhouse,
      routing: { rollback: () => Promise.reject(new Error("no rollback expected")) },
      logger: silentLogger,
    }),
    leaseName: lease,
  });

  it("two triggers at once run the job once: the other reports the lease held", async () => {
    const holders = Array.from({ length: 8 }, (_, i) => `holder-${i}`);
    const won = await Promise.all(
      holders.map((h) => tryAcquireLease(database.db, { name: lease, holder: h, ttlMs: 60_000 })),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
    const winner = holders[won.indexOf(true)] ?? "";
    // While one run holds it, concurrent runs skip; once released, the next one runs.
    const both = await Promise.all([
      runDriftJobWithLease(deps(), { now: Date.now(), tiers: ["no-such-tier"] }),
      runDriftJobWithLease(deps(), { now: Date.now(), tiers: ["no-such-tier"] }),
    ]);
    expect(both).toEqual([
      { ran: false, skipped: "lease held" },
      { ran: false, skipped: "lease held" },
    ]);
    await releaseLease(database.db, lease, winner);
    expect(await runDriftJobWithLease(deps(), { now: Date.now(), tiers: ["no-such-tier"] })).toEqual({
      ran: true,
      tiers: [],
    });
  });
});

describe("Bun-side drift scheduler", () => {
  it("asks the pool to run the drift job on its period, signed like the edge", async () => {
    const startedAt = Date.now();
    const results: number[] = [];
    const stop = startDriftScheduler({ ...options, onResult: (status) => results.push(status) });
    try {
      const lease = await eventually(async () => {
        const row = await readLease(database.db, driftLeaseName);
        const at = Number(row?.holder.match(/^scheduler@(\d+)#/)?.[1] ?? 0);
        return at >= startedAt ? row : undefined;
      });
      expect(lease.holder).toMatch(/^scheduler@\d+#[0-9a-f-]{36}$/);
    } finally {
      stop();
    }
    expect(results.every((status) => status === 200)).toBe(true);
  });

  it("while another trigger holds the lease, a run through the pool is skipped", async () => {
    const holder = `test-holder-${Date.now()}`;
    // Another trigger's run in progress (held briefly: the real lease, shared with the cron).
    const held = await eventually(async () =>
      (await tryAcquireLease(database.db, { name: driftLeaseName, holder, ttlMs: 30_000 }))
        ? true
        : undefined,
    );
    expect(held).toBe(true);
    try {
      const response = await triggerDriftRun(options, Date.now());
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ran: false, skipped: "lease held" });
    } finally {
      await releaseLease(database.db, driftLeaseName, holder);
    }
    const after = await triggerDriftRun(options, Date.now());
    expect(((await after.json()) as { ran: boolean }).ran).toBe(true);
  });
});
