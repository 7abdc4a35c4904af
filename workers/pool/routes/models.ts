import type { Hono } from "hono";
import type { PoolHonoEnv } from "../types.ts";

/** GET /internal/v1/models: `auto`, the tiers and every active concrete model, in OpenAI's list shape. */
export function registerModelRoutes(app: Hono<PoolHonoEnv>): void {
  app.get("/internal/v1/models", (c) => c.json(c.var.services.routing.router.models("tiergate")));
}
