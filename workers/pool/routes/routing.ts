import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { withPostgres } from "../../db/client.ts";
import { routeAdjustments } from "../../db/schema.ts";
import { routeLearningDeps } from "../../router/learning/deps.ts";
import { runRouteLearningWithLease } from "../../router/learning/job.ts";
import type { PoolHonoEnv } from "../types.ts";
import { adminJobRoute, adminReadRoute, boundedNow, runTrigger } from "./admin-jobs.ts";

const learnBody = z.strictObject({ now: boundedNow, trigger: runTrigger });

const learnRoute = adminJobRoute({
  path: "/internal/v1/routing/learn",
  summary: "Run one window of per-tenant routing learning under its lease (`{}` for now)",
  body: learnBody,
});

const adjustmentsRoute = adminReadRoute({
  path: "/internal/v1/routing/adjustments",
  summary: "Every tenant's learned tier shifts",
});

/**
 * The routing-feedback endpoints (admin credential only, see app.ts): `learn` runs one window of
 * per-tenant learning (under its own Postgres lease; a concurrent call answers `{ran:false, skipped}`),
 * `adjustments` lists what was learned.
 */
export function registerRoutingRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(learnRoute, async (c) => {
    const body = c.req.valid("json");
    const { config, database, clickhouse } = c.var.services;
    const report = await runRouteLearningWithLease(
      routeLearningDeps(config, database.db, clickhouse),
      body.now ?? Date.now(),
      `${body.trigger ?? "manual"}#${crypto.randomUUID()}`,
    );
    return c.json(report);
  });
  app.openapi(adjustmentsRoute, async (c) => {
    const { db } = c.var.services.database;
    return c.json({ adjustments: await withPostgres(() => db.select().from(routeAdjustments)) });
  });
}
