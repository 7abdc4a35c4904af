import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { jsonContent, plainResponses } from "../../../shared/openapi.ts";
import { withPostgres } from "../../db/client.ts";
import { driftState } from "../../db/schema.ts";
import { driftJobDeps } from "../../drift/deps.ts";
import { driftLeaseName, runDriftJobWithLease } from "../../drift/job.ts";
import { readLease } from "../../drift/lease.ts";
import type { PoolHonoEnv } from "../types.ts";
import { jsonBody, signedBodyErrors, signedErrors, signedSecurity, tags } from "./shared.ts";

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

const runRoute = createRoute({
  method: "post",
  path: "/internal/v1/drift/run",
  summary: "Run the drift job under its lease (`{}` for now and every tier)",
  tags: tags.admin,
  security: signedSecurity,
  middleware: jsonBody,
  request: { body: { required: true, content: jsonContent(runBody) } },
  responses: plainResponses({
    200: {
      description: "The run's report, or `{ran:false, skipped}`",
      content: jsonContent(z.record(z.string(), z.unknown())),
    },
    ...signedBodyErrors,
  }),
});

const statusRoute = createRoute({
  method: "get",
  path: "/internal/v1/drift/status",
  summary: "The drift lease's holder and every tier's drift state",
  tags: tags.admin,
  security: signedSecurity,
  responses: plainResponses({
    200: { description: "OK", content: jsonContent(z.record(z.string(), z.unknown())) },
    ...signedErrors,
  }),
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
