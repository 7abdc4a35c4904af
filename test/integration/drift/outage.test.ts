import { afterAll, describe, expect, it } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { silentLogger } from "../../../shared/logger.ts";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { driftJobDeps } from "../../../workers/drift/deps.ts";
import { runDriftJob, runDriftJobWithLease } from "../../../workers/drift/job.ts";
import { loadDriftState } from "../../../workers/drift/state.ts";
import { workerEnvSchema } from "../../../workers/pool/env.ts";
import { seedRegistryIfEmpty } from "../../../workers/registry/store.ts";
import { localPoolEnv } from "../../stack/local-env.ts";

const config = workerEnvSchema.parse(localPoolEnv());
const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
// Nothing listens on port 1: every ClickHouse / Postgres call is refused at once.
const deadClickHouse = createClickHouse({
  url: "http://127.0.0.1:1",
  username: "default",
  password: "",
  database: "tiergate",
  requestTimeoutMs: 2_000,
});
const noRollback = { rollback: () => Promise.reject(new Error("no rollback expected")) };

afterAll(async () => {
  await database.close();
  await deadClickHouse.close();
});

describe("drift job when its dependencies fail", () => {
  it("ClickHouse unreachable: reads are retried, the tier is reported failed and its state is kept for the next run", async () => {
    await seedRegistryIfEmpty(database.db, config);
    const before = await loadDriftState(database.db, "small");
    const retries: number[] = [];
    // A window after the last evaluated one (a recent cron may have evaluated the current one).
    const windowMs = config.DRIFT_WINDOW_MINUTES * 60_000;
    const now = Math.max(Date.now(), (before?.lastWindowEnd?.getTime() ?? 0) + windowMs);
    const reports = await runDriftJob(
      {
        ...driftJobDeps({
          config,
          db: database.db,
          clickhouse: deadClickHouse,
          routing: noRollback,
          logger: silentLogger,
        }),
        onRetry: (_error, attempt) => retries.push(attempt),
      },
      { now, tiers: ["small"] },
    );
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ tier: "small", outcome: "failed" });
    expect(reports[0]?.error).toMatch(/clickhouse|ECONNREFUSED|fetch failed|Unable to connect/i);
    expect(retries).toEqual([1, 2]);
    expect(await loadDriftState(database.db, "small")).toEqual(before);
  });

  it("Postgres unreachable: the run fails with a retryable DependencyError (the route answers 503 + Retry-After)", async () => {
    const deadPostgres = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: "127.0.0.1:1/v1" });
    try {
      const error = await runDriftJobWithLease(
        driftJobDeps({
          config,
          db: deadPostgres.db,
          clickhouse: deadClickHouse,
          routing: noRollback,
          logger: silentLogger,
        }),
        { now: Date.now() },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DependencyError);
      expect(error).toMatchObject({ dependency: "postgres", retryable: true });
    } finally {
      await deadPostgres.close().catch(() => undefined);
    }
  });
});
