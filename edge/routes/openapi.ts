import type { Hono } from "hono";
import { openApiDocument } from "../openapi.ts";
import type { HonoEnv } from "../types.ts";

/** GET /openapi.json: public, no key, no dependency. */
export function registerOpenApiRoutes(app: Hono<HonoEnv>): void {
  app.get("/openapi.json", (c) => c.json(openApiDocument()));
}
