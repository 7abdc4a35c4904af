import type { Hono } from "hono";
import { z } from "zod";
import { parseOrThrow } from "../../shared/validation.ts";
import { driftJobDeps } from "../drift/deps.ts";
import { runDriftJobWithLease } from "../drift/job.ts";
import type { PoolHonoEnv } from "../types.ts";
import { parseJsonBody } from "./chat.ts";

const runBody = z.strictObject({
  /** End of the window (epoch ms); default now. Tests and backfills pass explicit windows. */
  now: z.number().int().positive().optional(),
  tiers: z.array(z.string().min(1).max(64)).min(1).max(100).optional(),
  /** Who triggered the run ("cron", "scheduler", "manual"), for the logs. */
  trigger: z.string().min(1).max(64).optional(),
});

/**
 * The signed drift endpoint: the edge's cron trigger and the Bun scheduler both POST here. Under the
 * Postgres lease only one run happens at a time; a concurrent call answers `{ran:false, skipped}`.
 */
export function registerDriftRoutes(app: Hono<PoolHonoEnv>): void {
  app.post("/internal/v1/drift/run", async (c) => {
    const body = parseOrThrow(runBody, c.var.rawBody.trim() === "" ? {} : parseJsonBody(c));
    const { config, database, clickhouse, routing } = c.var.services;
    const report = await runDriftJobWithLease(driftJobDeps(config, database.db, clickhouse, routing), {
      now: body.now ?? Date.now(),
      tiers: body.tiers,
    });
    console.log(
      `drift run (${body.trigger ?? "manual"}): ${report.ran ? `${report.tiers.length} tiers` : report.skipped}`,
    );
    return c.json(report);
  });
}
