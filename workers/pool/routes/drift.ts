import type { Hono } from "hono";
import { z } from "zod";
import { parseOrThrow } from "../../../shared/validation.ts";
import { withPostgres } from "../../db/client.ts";
import { driftState } from "../../db/schema.ts";
import { driftJobDeps } from "../../drift/deps.ts";
import { driftLeaseName, runDriftJobWithLease } from "../../drift/job.ts";
import { readLease } from "../../drift/lease.ts";
import type { PoolHonoEnv } from "../types.ts";
import { parseJsonBody } from "./chat.ts";

const runBody = z.strictObject({
  /** End of the window (epoch ms); default now. Tests and backfills pass explicit windows. */
  now: z.number().int().positive().optional(),
  tiers: z.array(z.string().min(1).max(64)).min(1).max(100).optional(),
  /** Who triggered the run ("cron:*\/10 * * * *@<time>", "scheduler", "manual"); part of the lease holder. */
  trigger: z.string().min(1).max(128).optional(),
});

/**
 * The signed drift endpoints. The edge's cron trigger and the Bun scheduler both POST `run`; under the
 * Postgres lease only one run happens at a time, and a concurrent call answers `{ran:false, skipped}`.
 * `status` shows the last (or current) lease holder and every tier's drift state.
 */
export function registerDriftRoutes(app: Hono<PoolHonoEnv>): void {
  app.post("/internal/v1/drift/run", async (c) => {
    const body = parseOrThrow(runBody, c.var.rawBody.trim() === "" ? {} : parseJsonBody(c));
    const { config, database, clickhouse, routing } = c.var.services;
    const logger = c.var.log;
    const trigger = body.trigger ?? "manual";
    const report = await runDriftJobWithLease(
      driftJobDeps({ config, db: database.db, clickhouse, routing, logger }),
      { now: body.now ?? Date.now(), tiers: body.tiers },
      `${trigger}#${crypto.randomUUID()}`,
    );
    logger.info("drift run", {
      trigger,
      ...(report.ran ? { tiers: report.tiers.length } : { skipped: report.skipped }),
    });
    return c.json(report);
  });
  app.get("/internal/v1/drift/status", async (c) => {
    const { db } = c.var.services.database;
    const [lease, tiers] = await Promise.all([
      readLease(db, driftLeaseName),
      withPostgres(() => db.select().from(driftState)),
    ]);
    return c.json({ lease: lease ?? null, tiers });
  });
}
