import type { Context, Hono } from "hono";
import { GatewayError } from "../../shared/errors.ts";
import { headers } from "../../shared/headers.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { inBackground } from "../background.ts";
import { requireApiKey } from "../middleware/auth.ts";
import { limitBody, readJson } from "../middleware/json-body.ts";
import type { HonoEnv } from "../types.ts";

const forwardedHeaders = [headers.tier, headers.route, headers.provider, headers.region];

function assertModelAllowed(c: Context<HonoEnv>, request: ChatCompletionRequest): void {
  const allowed = c.var.apiKey.allowedModels;
  if (allowed && !allowed.includes(request.model)) {
    throw new GatewayError("MODEL_FORBIDDEN", `This API key may not use model '${request.model}'.`, {
      param: "model",
    });
  }
}

type CacheMode = "use" | "bypass" | "refresh";
function cacheMode(c: Context<HonoEnv>): CacheMode {
  const value = c.req.header(headers.cacheControl)?.toLowerCase();
  return value === "bypass" || value === "refresh" ? value : "use";
}

/** POST /v1/chat/completions: validate, look up the response cache, forward misses to the pool. */
export function registerChatRoutes(app: Hono<HonoEnv>): void {
  app.post("/v1/chat/completions", limitBody, requireApiKey, async (c) => {
    const { services, apiKey, requestId } = c.var;
    const request = parseOrThrow(services.chatSchema, await readJson(c));
    assertModelAllowed(c, request);

    const mode = cacheMode(c);
    const cacheable = request.temperature === 0 && !request.stream;
    const cacheKey = cacheable ? await services.cache.keyFor(apiKey.tenantId, request) : null;
    if (cacheKey && mode === "use") {
      const cached = await services.cache.get(cacheKey).catch(() => null);
      if (cached) {
        return c.body(cached, 200, {
          "content-type": "application/json",
          [headers.cache]: "HIT",
          [headers.requestId]: requestId,
        });
      }
    }

    const upstream = await services.pool.call({
      method: "POST",
      path: "/internal/v1/chat/completions",
      body: JSON.stringify(request),
      requestId,
      tenant: apiKey.tenantId,
      keyId: apiKey.keyId,
      deadline: Date.now() + services.config.POOL_TIMEOUT_MS,
    });

    const out = new Headers({
      "content-type": upstream.headers.get("content-type") ?? "application/json",
      [headers.cache]: cacheKey && mode !== "bypass" ? "MISS" : "BYPASS",
      [headers.requestId]: requestId,
    });
    for (const name of forwardedHeaders) {
      const value = upstream.headers.get(name);
      if (value) out.set(name, value);
    }
    if (request.stream || !upstream.ok || !cacheKey || mode === "bypass") {
      return new Response(upstream.body, { status: upstream.status, headers: out });
    }
    const body = await upstream.text();
    const ttl = apiKey.cacheTtlSeconds ?? undefined;
    inBackground(c, "cache write", services.cache.set(cacheKey, body, ttl));
    return new Response(body, { status: upstream.status, headers: out });
  });
}
