import type { Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { GatewayError } from "../../shared/errors.ts";
import type { RequestEvent } from "../../shared/events.ts";
import { headers } from "../../shared/headers.ts";
import type { ChatCompletionRequest, ChatCompletionResponse } from "../../shared/schemas/chat.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { placeholderChat, placeholderChatChunks } from "../providers/placeholder/chat.ts";
import { placeholderEndpoint } from "../providers/placeholder/endpoint.ts";
import type { PoolHonoEnv } from "../types.ts";

function parseBody(c: Context<PoolHonoEnv>): ChatCompletionRequest {
  let json: unknown;
  try {
    json = JSON.parse(c.var.rawBody);
  } catch {
    throw new GatewayError("INVALID_JSON", "The request body is not valid JSON.");
  }
  return parseOrThrow(c.var.services.chatSchema, json);
}

function buildEvent(
  c: Context<PoolHonoEnv>,
  request: ChatCompletionRequest,
  completion: ChatCompletionResponse,
  started: number,
): RequestEvent {
  return {
    event_id: crypto.randomUUID(),
    ts: Date.now(),
    request_id: c.var.requestId,
    tenant: c.req.header(headers.tenant) ?? "unknown",
    user_id: request.user ?? "",
    route: "chat",
    tier: "placeholder",
    model: completion.model,
    model_version: placeholderEndpoint.modelVersion,
    provider: placeholderEndpoint.name,
    status: 200,
    cache: "MISS",
    fallback_reason: "",
    queue_ms: 0,
    ttft_ms: Date.now() - started,
    latency_ms: Date.now() - started,
    prompt_tokens: completion.usage.prompt_tokens,
    completion_tokens: completion.usage.completion_tokens,
  };
}

/** POST /internal/v1/chat/completions: answer (placeholder provider for now), then record the event. */
export function registerChatRoutes(app: Hono<PoolHonoEnv>): void {
  app.post("/internal/v1/chat/completions", async (c) => {
    const started = Date.now();
    const request = parseBody(c);
    const { services } = c.var;
    const completion = placeholderChat(request, c.var.requestId);
    const event = buildEvent(c, request, completion, started);
    services.events.publish(event);
    services.recordRequest(event, c.req.header(headers.keyId) ?? null);

    c.header(headers.tier, event.tier);
    c.header(headers.provider, event.provider);
    c.header(headers.route, "placeholder");
    c.header(headers.region, services.config.POOL_REGION);
    if (!request.stream) return c.json(completion);
    return streamSSE(c, async (stream) => {
      for (const chunk of placeholderChatChunks(completion)) await stream.writeSSE({ data: chunk });
      await stream.writeSSE({ data: "[DONE]" });
    });
  });
}
