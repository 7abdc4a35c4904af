import type { Hono } from "hono";
import { headers } from "../../shared/headers.ts";
import { type ModelList, modelListSchema } from "../../shared/schemas/embeddings.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import { requireApiKey } from "../middleware/auth.ts";
import { enforceRateLimit } from "../middleware/rate-limit.ts";
import { fallbackConfig, fallbackHeaders } from "../services/fallback.ts";
import { forwardJson } from "../services/json-forward.ts";
import type { HonoEnv } from "../types.ts";

/** What `/v1/models` lists when no pool answers: the routing aliases, which always exist. */
const fallbackModels = ["auto", "small", "medium", "large"];

/** GET /v1/models: the pool's list (filtered to the key's allowed models), or the aliases as fallback. */
export function registerModelRoutes(app: Hono<HonoEnv>): void {
  app.get("/v1/models", requireApiKey, enforceRateLimit, async (c) => {
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
