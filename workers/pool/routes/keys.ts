import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { jsonContent } from "../../../shared/openapi.ts";
import { keyVerifyRequestSchema, keyVerifyResponseSchema } from "../../../shared/schemas/keys.ts";
import type { PoolHonoEnv } from "../types.ts";
import { jsonBody, signedBodyErrors, signedSecurity, tags } from "./shared.ts";

const verifyRoute = createRoute({
  method: "post",
  path: "/internal/v1/keys/verify",
  summary: "What an API key's sha256 belongs to (null when unknown)",
  tags: tags.internal,
  security: signedSecurity,
  middleware: jsonBody,
  request: { body: { required: true, content: jsonContent(keyVerifyRequestSchema) } },
  responses: {
    200: { description: "The key, or null", content: jsonContent(keyVerifyResponseSchema) },
    ...signedBodyErrors,
  },
});

/** POST /internal/v1/keys/verify: the edge asks what a key hash belongs to (signed). */
export function registerKeyRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(verifyRoute, async (c) => {
    const { key_hash } = c.req.valid("json");
    const key = await c.var.services.keys.findByHash(key_hash);
    return c.json({ key: key && (await c.var.services.spend.withSettings(key)) }, 200);
  });
}
