import type { Context, Hono } from "hono";
import { GatewayError } from "../../shared/errors.ts";
import { headers } from "../../shared/headers.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { inBackground } from "../lib/background.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import { requireApiKey } from "../middleware/auth.ts";
import { limitBody, readJson } from "../middleware/json-body.ts";
import { enforceRateLimit } from "../middleware/rate-limit.ts";
import { answerChat, type CachePolicy } from "../services/chat-completions.ts";
import { isDeterministic } from "../services/response-cache.ts";
import type { HonoEnv } from "../types.ts";

/** Throws 403 when the key is limited to other models. */
export function assertModelAllowed(c: Context<HonoEnv>, model: string): void {
  const allowed = c.var.apiKey.allowedModels;
  if (allowed && !allowed.includes(model)) {
    throw new GatewayError("MODEL_FORBIDDEN", `This API key may not use model '${model}'.`, {
      param: "model",
    });
  }
}

const maxTtlSeconds = 7 * 24 * 3600;

/**
 * The cache rule: deterministic requests (temperature 0) are cached; `x-tiergate-cache: force` opts any
 * other request in, `bypass` skips the cache entirely, `refresh` skips the read and stores the new
 * answer. `x-tiergate-cache-ttl: <seconds>` overrides the TTL (else the key's, else CACHE_TTL_SECONDS).
 */
function cachePolicy(c: Context<HonoEnv>, request: ChatCompletionRequest): CachePolicy {
  const control = c.req.header(headers.cacheControl)?.trim().toLowerCase();
  if (control !== undefined && !["bypass", "refresh", "force", "use"].includes(control)) {
    throw new GatewayError("BAD_REQUEST", `${headers.cacheControl} must be bypass, refresh, force or use.`, {
      param: headers.cacheControl,
    });
  }
  const rawTtl = c.req.header(headers.cacheTtl);
  let ttlSeconds: number | undefined;
  if (rawTtl !== undefined) {
    ttlSeconds = Number(rawTtl);
    if (!/^\d+$/.test(rawTtl.trim()) || ttlSeconds < 1 || ttlSeconds > maxTtlSeconds) {
      throw new GatewayError(
        "BAD_REQUEST",
        `${headers.cacheTtl} must be whole seconds in 1..${maxTtlSeconds}.`,
        {
          param: headers.cacheTtl,
        },
      );
    }
  }
  if (control === "bypass") return { mode: "off" };
  if (!isDeterministic(request) && control !== "force") return { mode: "off" };
  return { mode: control === "refresh" ? "refresh" : "use", ttlSeconds };
}

/** POST /v1/chat/completions, streamed or not. */
export function registerChatRoutes(app: Hono<HonoEnv>): void {
  app.post("/v1/chat/completions", limitBody, requireApiKey, enforceRateLimit, async (c) => {
    const { services, apiKey, requestId, arrivedAt } = c.var;
    const request = parseOrThrow(services.chatSchema, await readJson(c));
    assertModelAllowed(c, request.model);
    return answerChat(
      {
        services,
        apiKey,
        requestId,
        arrivedAt,
        traceparent: traceparentOf(c),
        background: (label, work) => inBackground(c, label, work),
      },
      request,
      cachePolicy(c, request),
    );
  });
}
