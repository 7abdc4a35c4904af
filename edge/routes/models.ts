import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { headers } from "../../shared/headers.ts";
import { errorResponses, jsonContent } from "../../shared/openapi.ts";
import { type ModelList, modelListSchema } from "../../shared/schemas/embeddings.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import { fallbackConfig, fallbackHeaders } from "../services/fallback.ts";
import { forwardJson } from "../services/json-forward.ts";
import type { HonoEnv } from "../types.ts";
import { bearerSecurity, keyRouteMiddleware } from "./common.ts";

/** What `/v1/models` lists when no pool answers: the routing aliases, which always exist. */
const fallbackModels = ["auto", "small", "medium", "large"];

const modelList = modelListSchema.openapi("ModelList");

const modelsRoute = createRoute({
  method: "get",
  path: "/v1/models",
  summary: "Models this key may use",
  security: bearerSecurity,
  middleware: keyRouteMiddleware,
  responses: {
    200: { description: "OK", content: jsonContent(modelList) },
    503: {
      description: "No pool answered: the routing aliases (x-fallback)",
      content: jsonContent(modelList),
    },
    ...errorResponses(401, 403, 429),
  },
});

/** GET /v1/models: the pool's list (filtered to the key's allowed models), or the aliases as fallback. */
export function registerModelRoutes(app: OpenAPIHono<HonoEnv>): void {
  app.openapi(modelsRoute, async (c) => {
    const { services, apiKey, requestId } = c.var;
    const result = await forwardJson(
      services.pool,
      {
        method: "GET",
        path: "/internal/v1/models",
        requestId,
        tenant: apiKey.tenantId,
        keyId: apiKey.keyId,
        allowedModels: apiKey.allowedModels,
        traceparent: traceparentOf(c),
        deadline: Date.now() + services.config.POOL_TIMEOUT_MS,
        idempotent: true,
      },
      modelListSchema,
    );
    const allowed = apiKey.allowedModels;
    const visible = (id: string) => !allowed || allowed.includes(id);
    if (result.ok && result.status === 200) {
      const list = modelListSchema.parse(JSON.parse(result.body));
      const body: ModelList = { object: "list", data: list.data.filter((m) => visible(m.id)) };
      return c.json(body, 200, { [headers.region]: result.region });
    }
    const created = Math.floor(Date.now() / 1000);
    const body: ModelList = {
      object: "list",
      data: fallbackModels
        .filter(visible)
        .map((id) => ({ id, object: "model" as const, created, owned_by: "tiergate" })),
    };
    const reason = result.ok ? "upstream_error" : result.reason;
    return c.json(
      body,
      services.config.FALLBACK_STATUS,
      fallbackHeaders(reason, fallbackConfig(services.config)),
    );
  });
}
