import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { RequestEvent } from "../../../shared/events.ts";
import { headers } from "../../../shared/headers.ts";
import { jsonContent, plainResponses } from "../../../shared/openapi.ts";
import {
  type ChatCompletionResponse,
  chatCompletionRequestSchema,
  chatCompletionResponseSchema,
  messageText,
} from "../../../shared/schemas/chat.ts";
import { parsedSynchronously } from "../../../shared/validation.ts";
import { rulesChatChunks } from "../../providers/rules/chat.ts";
import { type RequestOutcome, routedEvent } from "../../router/events.ts";
import { cachedTokensOf, type PipedStream, pipeChatStream } from "../../router/sse.ts";
import type { PoolHonoEnv } from "../types.ts";
import { chargeCompletion, chargeEvent, chargeStream, spendTrailer } from "./charge.ts";
import { gateChatCompletion, groundChat, ragHeaders, ragModel } from "./chat-rag.ts";
import { keepSemanticAnswer, semanticLookup, serveSemanticHit } from "./chat-semantic.ts";
import { logPayload } from "./payload-log.ts";
import {
  jsonBody,
  recordEvent,
  recordFailures,
  requestIdentity,
  routingContext,
  setRoutingHeaders,
  signedBodyErrors,
  signedSecurity,
  tags,
} from "./shared.ts";

/** A complete answer written as SSE chunks and `[DONE]`. */
function sseOf(c: Context<PoolHonoEnv>, completion: ChatCompletionResponse, charged: RequestEvent): Response {
  return streamSSE(c, async (sse) => {
    for (const chunk of rulesChatChunks(completion)) await sse.writeSSE({ data: JSON.stringify(chunk) });
    await sse.write(`: ${spendTrailer(charged)}\n\n`);
    await sse.writeSSE({ data: "[DONE]" });
  });
}

const chatRoute = createRoute({
  method: "post",
  path: "/internal/v1/chat/completions",
  summary: "Chat completion routed by the tier router (the edge forwards POST /v1/chat/completions)",
  tags: tags.internal,
  security: signedSecurity,
  middleware: [recordFailures("chat"), jsonBody],
  request: {
    body: { required: true, content: jsonContent(parsedSynchronously(chatCompletionRequestSchema())) },
  },
  responses: plainResponses({
    200: {
      description: "The completion, or its chunks as server-sent events; x-tiergate-route says why this tier",
      content: { ...jsonContent(chatCompletionResponseSchema), "text/event-stream": { schema: z.string() } },
    },
    ...signedBodyErrors,
  }),
});

/**
 * The event of a non-streamed completion: usage from what the model returned, answer length from what
 * is sent (the gate may have withheld the model's answer).
 */
function completedEvent(
  outcome: Omit<RequestOutcome, "status">,
  completion: ChatCompletionResponse,
  sent: ChatCompletionResponse,
): RequestEvent {
  return {
    ...routedEvent({
      ...outcome,
      status: 200,
      promptTokens: completion.usage?.prompt_tokens ?? 0,
      completionTokens: completion.usage?.completion_tokens ?? 0,
      answerChars: sent.choices[0]?.message.content?.length ?? 0,
    }),
    cached_tokens: cachedTokensOf(completion.usage),
  };
}

/**
 * POST /internal/v1/chat/completions: routed by the tier router. Streams are opened up to the first
 * token before anything is sent, so earlier failures fall over invisibly; one event per request.
 */
export function registerChatRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(chatRoute, async (c) => {
    const arrivedAt = Date.now();
    const services = c.get("services");
    const parsed = c.req.valid("json");
    const ctx = routingContext(c, arrivedAt);
    const grounding = await groundChat(c, parsed);
    const identity = {
      ...requestIdentity(c, parsed.user),
      route: grounding.kind === "none" ? "chat" : "chat+rag",
      arrivedAt,
    };
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
      const charged = chargeEvent(c, event);
      recordEvent(c, charged);
      return parsed.stream ? sseOf(c, grounding.completion, charged) : c.json(grounding.completion);
    }
    const request = grounding.request;
    const semantic = grounding.kind === "none" ? await semanticLookup(c, request) : { kind: "off" as const };
    if (semantic.kind === "hit") return serveSemanticHit(c, semantic, request, arrivedAt);
    const promptChars = request.messages.reduce((sum, m) => sum + messageText(m).length, 0);
    if (grounding.kind === "context") {
      // A RAG answer is generated whole and checked by the answer gate before any of it is sent,
      // streamed or not: a stream's first token waits for the whole generation.
      const { stream_options: _, ...whole } = request;
      const { decision, served, completion } = await router.complete({ ...whole, stream: false }, ctx);
      const gated = gateChatCompletion(c, grounding, completion);
      const event = completedEvent(
        { ...identity, decision, served, promptChars },
        completion,
        gated.completion,
      );
      if (gated.withheld) event.fallback_reason = "unsupported_answer";
      const charged = await chargeCompletion(c, event, { request, completion });
      recordEvent(c, charged);
      setRoutingHeaders(c, served, decision);
      if (gated.withheld) c.header(headers.ragRule, "unsupported_answer");
      return request.stream ? sseOf(c, gated.completion, charged) : c.json(gated.completion);
    }

    if (!request.stream) {
      const { decision, served, completion } = await router.complete(request, ctx);
      const event = completedEvent({ ...identity, decision, served, promptChars }, completion, completion);
      recordEvent(c, await chargeCompletion(c, event, { request, completion }));
      setRoutingHeaders(c, served, decision);
      keepSemanticAnswer(c, semantic, completion);
      // One serialisation for the answer and the payload log.
      const body = JSON.stringify(completion);
      logPayload(c, "chat", body);
      return c.body(body, 200, { "content-type": "application/json" });
    }

    const { decision, served, stream } = await router.stream(request, ctx);
    setRoutingHeaders(c, served, decision);
    return streamSSE(c, async (sse) => {
      const streamEvent = (done: PipedStream) =>
        routedEvent({
          ...identity,
          status: done.outcome === "failed" ? 502 : 200,
          decision,
          served,
          firstTokenAt: stream.firstTokenAt,
          promptTokens: done.promptTokens,
          completionTokens: done.completionTokens,
          promptChars,
        });
      let charged: RequestEvent | undefined;
      const piped = await pipeChatStream(sse, stream, {
        requestId: c.get("requestId"),
        includeUsage: request.stream_options?.include_usage === true,
        trailer: async (done) => {
          charged = await chargeStream(c, streamEvent(done), { request, served, piped: done });
          return spendTrailer(charged);
        },
      });
      recordEvent(c, charged ?? streamEvent(piped));
    });
  });
}
