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

/** How far a run's `now` may be from the server's clock. */
const maxNowSkewMs = 24 * 3600 * 1000;

const runBody = z.strictObject({
  /** End of the window (epoch ms), within a day of the server's clock; default now. */
  now: z
    .number()
    .int()
    .positive()
    .refine(
      (now) => Math.abs(now - Date.now()) <= maxNowSkewMs,
      "must be within 24 hours of the server's clock",
    )
    .optional(),
  tiers: z.array(z.string().min(1).max(64)).min(1).max(100).optional(),
  /** Who triggered the run ("cron:*\/10 * * * *@<time>", "scheduler", "manual"); part of the lease holder. */
  trigger: z.string().min(1).max(128).optional(),
});

/**
 * The drift endpoints (admin credential only, see app.ts). The edge's cron trigger and the Bun scheduler both POST `run`; under the
 * Postgres lease only one run happens at a time, and a concurrent call answers `{ran:false, skipped}`.
 * `status` shows the last (or current) lease holder and every tier's drift state.
 */
export function registerDriftRoutes(app: Hono<PoolHonoEnv>): void {
  app.post("/internal/v1/drift/run", async (c) => {
    const body = parseOrThrow(runBody, c.var.rawBody.trim() === "" ? {} : parseJsonBody(c));
    const { config, database, clickhouse, routing } = c.var.services;
    const trigger = body.trigger ?? "manual";
    const report = await runDriftJobWithLease(
      driftJobDeps(config, database.db, clickhouse, routing),
      { now: body.now ?? Date.now(), tiers: body.tiers },
      `${trigger}#${crypto.randomUUID()}`,
    );
    console.log(
      `drift run (${trigger}, by admin:${c.var.caller.credential}): ${report.ran ? `${report.tiers.length} tiers` : report.skipped}`,
    );
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
