import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { GatewayError } from "../../shared/errors.ts";
import { headers } from "../../shared/headers.ts";
import { jsonContent } from "../../shared/openapi.ts";
import {
  type ChatCompletionRequest,
  chatCompletionRequestBodySchema,
  chatCompletionResponseSchema,
} from "../../shared/schemas/chat.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { inBackground } from "../lib/background.ts";
import { traceparentOf } from "../lib/traceparent.ts";
import { answerChat, type CachePolicy } from "../services/chat-completions.ts";
import { guardResponse } from "../services/guarded-response.ts";
import { guardChatRequest, guardrailsHeader } from "../services/guardrails.ts";
import { payloadLogDirective, semanticCacheDirective } from "../services/pool-directives.ts";
import { isDeterministic } from "../services/response-cache.ts";
import type { HonoEnv } from "../types.ts";
import { assertModelAllowed, bearerSecurity, bodyRouteErrors, bodyRouteMiddleware } from "./common.ts";

const maxTtlSeconds = 7 * 24 * 3600;

/**
 * The cache rule: deterministic requests (temperature 0) are cached; `x-tiergate-cache: force` opts any
 * other request in, `bypass` skips the cache entirely, `refresh` skips the read and stores the new
 * answer. `x-tiergate-cache-ttl: <seconds>` overrides the TTL (else the key's, else CACHE_TTL_SECONDS).
 */
export function cachePolicy(c: Context<HonoEnv>, request: ChatCompletionRequest): CachePolicy {
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

const completion = chatCompletionResponseSchema.openapi("ChatCompletionResponse");

const chatRoute = createRoute({
  method: "post",
  path: "/v1/chat/completions",
  summary: "Chat completion, streamed (text/event-stream) when stream is true",
  description:
    "MAX_MESSAGES, MAX_TOKENS and MAX_CONTENT_CHARS (256, 4096 and 100000 by default) cap messages, " +
    "max_tokens and the total message text; a request over them is a 400 naming the field.",
  security: bearerSecurity,
  middleware: bodyRouteMiddleware,
  request: {
    body: {
      required: true,
      content: jsonContent(chatCompletionRequestBodySchema.openapi("ChatCompletionRequest")),
    },
  },
  responses: {
    200: {
      description: "The completion (x-cache HIT or MISS), or its chunks as server-sent events",
      content: { ...jsonContent(completion), "text/event-stream": { schema: z.string() } },
    },
    503: {
      description: "Deterministic fallback (x-fallback names the reason)",
      content: jsonContent(completion),
    },
    ...bodyRouteErrors,
  },
});

/** POST /v1/chat/completions, streamed or not. */
export function registerChatRoutes(app: OpenAPIHono<HonoEnv>): void {
  app.openapi(chatRoute, async (c) => {
    const services = c.get("services"),
      apiKey = c.get("apiKey"),
      requestId = c.get("requestId"),
      arrivedAt = c.get("arrivedAt");
    const request = c.req.valid("json");
    parseOrThrow(services.chatLimits, request);
    assertModelAllowed(c, request.model);
    const guarded = await guardChatRequest({
      apiKey,
      request,
      asked: c.req.header(guardrailsHeader),
      moderator: services.moderator ?? null,
      onDecision: (fields) => c.set("guardrailEvent", fields),
    });
    const policy = cachePolicy(c, guarded.request);
    const answer = await answerChat(
      {
        services,
        apiKey,
        requestId,
        arrivedAt,
        traceparent: traceparentOf(c),
        clientRequestId: c.get("clientRequestId"),
        semanticCache: semanticCacheDirective({
          header: c.req.header(headers.semanticCache),
          apiKey,
          policy,
          defaultTtlSeconds: services.config.CACHE_TTL_SECONDS,
        }),
        payloadLog: payloadLogDirective(apiKey),
        background: (label, work) => inBackground(c, label, work),
        guardrailEvent: c.get("guardrailEvent"),
        trace: c.get("trace"),
      },
      guarded.request,
      policy,
    );
    return guardResponse(answer, guarded.output);
  });
}
