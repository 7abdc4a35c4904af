import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { jsonContent } from "../../../shared/openapi.ts";
import { modelListSchema } from "../../../shared/schemas/embeddings.ts";
import type { PoolHonoEnv } from "../types.ts";
import { signedErrors, signedSecurity, tags } from "./shared.ts";

const modelsRoute = createRoute({
  method: "get",
  path: "/internal/v1/models",
  summary: "`auto`, the tiers and every active concrete model (the edge filters them per key)",
  tags: tags.internal,
  security: signedSecurity,
  responses: { 200: { description: "OK", content: jsonContent(modelListSchema) }, ...signedErrors },
});

/** GET /internal/v1/models: `auto`, the tiers and every active concrete model, in OpenAI's list shape. */
export function registerModelRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(modelsRoute, (c) => c.json(c.var.services.routing.router.models("tiergate"), 200));
}
