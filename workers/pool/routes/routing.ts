import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { jsonContent, plainResponses } from "../../../shared/openapi.ts";
import { withPostgres } from "../../db/client.ts";
import { routeAdjustments } from "../../db/schema.ts";
import { routeLearningDeps } from "../../router/learning/deps.ts";
import { runRouteLearningWithLease } from "../../router/learning/job.ts";
import type { PoolHonoEnv } from "../types.ts";
import { jsonBody, signedBodyErrors, signedErrors, signedSecurity, tags } from "./shared.ts";

/** How far a run's `now` may be from the server's clock. */
const maxNowSkewMs = 24 * 3600 * 1000;

const learnBody = z.strictObject({
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
  trigger: z.string().min(1).max(128).optional(),
});

const learnRoute = createRoute({
  method: "post",
  path: "/internal/v1/routing/learn",
  summary: "Run one window of per-tenant routing learning under its lease (`{}` for now)",
  tags: tags.admin,
  security: signedSecurity,
  middleware: jsonBody,
  request: { body: { required: true, content: jsonContent(learnBody) } },
  responses: plainResponses({
    200: {
      description: "The run's report, or `{ran:false, skipped}`",
      content: jsonContent(z.record(z.string(), z.unknown())),
    },
    ...signedBodyErrors,
  }),
});

const adjustmentsRoute = createRoute({
  method: "get",
  path: "/internal/v1/routing/adjustments",
  summary: "Every tenant's learned tier shifts",
  tags: tags.admin,
  security: signedSecurity,
  responses: plainResponses({
    200: { description: "OK", content: jsonContent(z.record(z.string(), z.unknown())) },
    ...signedErrors,
  }),
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
