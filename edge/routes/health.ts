import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { jsonContent } from "../../shared/openapi.ts";
import type { HonoEnv } from "../types.ts";

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  summary: "Liveness of the edge (no key, no dependency)",
  responses: {
    200: {
      description: "Alive",
      content: jsonContent(z.object({ status: z.literal("ok"), service: z.literal("tiergate-edge") })),
    },
  },
});

/** Liveness of the edge itself; it needs no dependency to answer. */
export function registerHealthRoutes(app: OpenAPIHono<HonoEnv>): void {
  app.openapi(healthRoute, (c) => c.json({ status: "ok" as const, service: "tiergate-edge" as const }, 200));
}
