import type { Hono } from "hono";
import { z } from "zod";
import { parseOrThrow } from "../../../shared/validation.ts";
import { withPostgres } from "../../db/client.ts";
import { routeAdjustments } from "../../db/schema.ts";
import { routeLearningDeps } from "../../router/learning/deps.ts";
import { runRouteLearningWithLease } from "../../router/learning/job.ts";
import type { PoolHonoEnv } from "../types.ts";
import { parseJsonBody } from "./chat.ts";

const learnBody = z.strictObject({
  /** End of the window (epoch ms); default now. */
  now: z.number().int().positive().optional(),
  trigger: z.string().min(1).max(128).optional(),
});

/**
 * The signed routing-feedback endpoints: `learn` runs one window of per-tenant learning (under its own
 * Postgres lease; a concurrent call answers `{ran:false, skipped}`), `adjustments` lists what was learned.
 */
export function registerRoutingRoutes(app: Hono<PoolHonoEnv>): void {
  app.post("/internal/v1/routing/learn", async (c) => {
    const body = parseOrThrow(learnBody, c.var.rawBody.trim() === "" ? {} : parseJsonBody(c));
    const { config, database, clickhouse } = c.var.services;
    const report = await runRouteLearningWithLease(
      routeLearningDeps(config, database.db, clickhouse),
      body.now ?? Date.now(),
      `${body.trigger ?? "manual"}#${crypto.randomUUID()}`,
    );
    return c.json(report);
  });
  app.get("/internal/v1/routing/adjustments", async (c) => {
    const { db } = c.var.services.database;
    return c.json({ adjustments: await withPostgres(() => db.select().from(routeAdjustments)) });
  });
}
