import type { OpenAPIHono } from "@hono/zod-openapi";
import { registerDocumentRoute } from "../../shared/openapi.ts";
import type { HonoEnv } from "../types.ts";

/** GET /openapi.json: public, no key, no dependency; generated from the routes' declarations. */
export function registerOpenApiRoutes(app: OpenAPIHono<HonoEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
  });
  registerDocumentRoute(app, {
    title: "tiergate",
    version: "0.1.0",
    description:
      "OpenAI-compatible gateway. Unknown request fields are rejected with 400 and `param` naming them. " +
      "Every response carries x-request-id and x-cache (HIT|MISS|BYPASS); x-fallback names the reason " +
      "when a deterministic fallback answered.",
  });
}
