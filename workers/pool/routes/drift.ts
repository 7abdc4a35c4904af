import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { withPostgres } from "../../db/client.ts";
import { driftState } from "../../db/schema.ts";
import { driftJobDeps } from "../../drift/deps.ts";
import { driftLeaseName, runDriftJobWithLease } from "../../drift/job.ts";
import { readLease } from "../../drift/lease.ts";
import type { PoolHonoEnv } from "../types.ts";
import { adminJobRoute, adminReadRoute, boundedNow, runTrigger } from "./admin-jobs.ts";

const runBody = z.strictObject({
  now: boundedNow,
  tiers: z.array(z.string().min(1).max(64)).min(1).max(100).optional(),
  trigger: runTrigger,
});

const runRoute = adminJobRoute({
  path: "/internal/v1/drift/run",
  summary: "Run the drift job under its lease (`{}` for now and every tier)",
  body: runBody,
});

const statusRoute = adminReadRoute({
  path: "/internal/v1/drift/status",
  summary: "The drift lease's holder and every tier's drift state",
});

/**
 * The drift endpoints (admin credential only, see app.ts). The edge's cron trigger and the Bun scheduler both POST `run`; under the
 * Postgres lease only one run happens at a time, and a concurrent call answers `{ran:false, skipped}`.
 * `status` shows the last (or current) lease holder and every tier's drift state.
 */
export function registerDriftRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(runRoute, async (c) => {
    const body = c.req.valid("json");
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
      actor: `admin:${c.var.caller.credential}`,
      ...(report.ran ? { tiers: report.tiers.length } : { skipped: report.skipped }),
    });
    return c.json(report);
  });
  app.openapi(statusRoute, async (c) => {
    const { db } = c.var.services.database;
    const [lease, tiers] = await Promise.all([
      readLease(db, driftLeaseName),
      withPostgres(() => db.select().from(driftState)),
    ]);
    return c.json({ lease: lease ?? null, tiers });
  });
}
