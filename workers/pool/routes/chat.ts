import type { Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { streamSSE } from "hono/streaming";
import { headers } from "../../../shared/headers.ts";
import { parseJsonBodyText } from "../../../shared/json-limits.ts";
import {
  type ChatCompletionRequest,
  type ChatCompletionResponse,
  messageText,
} from "../../../shared/schemas/chat.ts";
import { parseOrThrow } from "../../../shared/validation.ts";
import { rulesChatChunks } from "../../providers/rules/chat.ts";
import { routedEvent } from "../../router/events.ts";
import type { RouteDecision } from "../../router/policy.ts";
import { formatDecision } from "../../router/policy.ts";
import type { RoutingContext, Served } from "../../router/router.ts";
import { pipeChatStream } from "../../router/sse.ts";
import type { RequestOrigin } from "../services.ts";
import type { PoolHonoEnv } from "../types.ts";
import { groundChat, ragHeaders, ragModel } from "./chat-rag.ts";

/** A complete answer written as SSE chunks and `[DONE]`. */
function sseOf(c: Context<PoolHonoEnv>, completion: ChatCompletionResponse): Response {
  return streamSSE(c, async (sse) => {
    for (const chunk of rulesChatChunks(completion)) await sse.writeSSE({ data: JSON.stringify(chunk) });
    await sse.writeSSE({ data: "[DONE]" });
  });
}

/** Without an edge deadline a request gets this long overall. */
const defaultBudgetMs = 60_000;

/** The signed body as JSON: 400 when it is not JSON or nests too deeply (checked before parsing). */
export function parseJsonBody(c: Context<PoolHonoEnv>): unknown {
  return parseJsonBodyText(c.var.rawBody);
}

/** The request's routing context: its id, the edge's deadline (capped) and the client's abort signal. */
export function routingContext(c: Context<PoolHonoEnv>, arrivedAt: number): RoutingContext {
  const header = Number(c.req.header(headers.deadline));
  const deadline =
    Number.isFinite(header) && header > 0
      ? Math.min(header, arrivedAt + defaultBudgetMs)
      : arrivedAt + defaultBudgetMs;
  return { requestId: c.var.requestId, deadline, signal: c.req.raw.signal };
}

/** The routing headers every answer carries. */
export function setRoutingHeaders(c: Context<PoolHonoEnv>, served: Served, decision?: RouteDecision): void {
  c.header(headers.tier, served.tier);
  c.header(headers.provider, served.provider);
  c.header(headers.modelVersion, served.version);
  c.header(headers.route, decision ? formatDecision(decision, served.tier) : served.tier);
  c.header(headers.region, c.var.services.config.POOL_REGION);
  if (served.fallbackReason) c.header(headers.fallbackReason, served.fallbackReason.slice(0, 512));
}

export function requestIdentity(c: Context<PoolHonoEnv>, userId: string | undefined) {
  return {
    requestId: c.var.requestId,
    tenant: c.req.header(headers.tenant) ?? "unknown",
    userId: userId ?? "",
  };
}

/** Who sent the request, for its request row: the key (from the edge) and the client's own request id. */
export function requestOrigin(c: Context<PoolHonoEnv>): RequestOrigin {
  return { keyId: c.req.header(headers.keyId) ?? null, clientRequestId: c.var.clientRequestId };
}

/** A request that ends in an error still produces its one event (status and request ids, no tier). */
export function recordFailures(route: string) {
  return createMiddleware<PoolHonoEnv>(async (c, next) => {
    const arrivedAt = Date.now();
    await next();
    if (!c.error) return;
    const event = routedEvent({ ...requestIdentity(c, undefined), route, arrivedAt, status: c.res.status });
    c.var.services.events.publish(event);
    c.var.services.recordRequest(event, requestOrigin(c));
  });
}

/**
 * POST /internal/v1/chat/completions: routed by the tier router. Streams are opened up to the first
 * token before anything is sent, so earlier failures fall over invisibly; one event per request.
 */
export function registerChatRoutes(app: Hono<PoolHonoEnv>): void {
  app.use("/internal/v1/chat/completions", recordFailures("chat"));
  app.post("/internal/v1/chat/completions", async (c) => {
    const arrivedAt = Date.now();
    const { services } = c.var;
    const parsed: ChatCompletionRequest = parseOrThrow(services.chatSchema, parseJsonBody(c));
    const ctx = routingContext(c, arrivedAt);
    const grounding = await groundChat(c, parsed);
    const identity = {
      ...requestIdentity(c, parsed.user),
      route: grounding.kind === "none" ? "chat" : "chat+rag",
      arrivedAt,
    };
    const origin = requestOrigin(c);
    const { router } = services.routing;
    for (const [name, value] of Object.entries(ragHeaders(grounding))) c.header(name, value);
    if (grounding.kind === "abstain") {
      const event = {
        ...routedEvent({ ...identity, status: 200 }),
        tier: "rag",
        provider: "rules",
        model: ragModel,
        fallback_reason: grounding.rule,
      };
      services.events.publish(event);
      services.recordRequest(event, origin);
      return parsed.stream ? sseOf(c, grounding.completion) : c.json(grounding.completion);
    }
    const request = grounding.request;
    const promptChars = request.messages.reduce((sum, m) => sum + messageText(m).length, 0);
    const citations = grounding.kind === "context" ? grounding.citations : undefined;

    if (!request.stream) {
      const { decision, served, completion } = await router.complete(request, ctx);
      const event = routedEvent({
        ...identity,
        status: 200,
        decision,
        served,
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
        promptChars,
        answerChars: completion.choices[0]?.message.content?.length ?? 0,
      });
      services.events.publish(event);
      services.recordRequest(event, origin);
      setRoutingHeaders(c, served, decision);
      return c.json(citations ? { ...completion, citations } : completion);
    }

    const { decision, served, stream } = await router.stream(request, ctx);
    setRoutingHeaders(c, served, decision);
    return streamSSE(c, async (sse) => {
      const piped = await pipeChatStream(sse, stream, {
        requestId: c.var.requestId,
        includeUsage: request.stream_options?.include_usage === true,
      });
      const event = routedEvent({
        ...identity,
        status: piped.outcome === "failed" ? 502 : 200,
        decision,
        served,
        firstTokenAt: stream.firstTokenAt,
        promptTokens: piped.promptTokens,
        completionTokens: piped.completionTokens,
        promptChars,
      });
      services.events.publish(event);
      services.recordRequest(event, origin);
    });
  });
}
