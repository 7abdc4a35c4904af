import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { RequestEvent } from "../../../shared/events.ts";
import {
  responsesModeHeader,
  translateStatus,
  usageOfResponse,
} from "../../../shared/formats/responses/passthrough.ts";
import { responsesToChat } from "../../../shared/formats/responses/to-chat.ts";
import { sseEvent } from "../../../shared/formats/sse.ts";
import { headers } from "../../../shared/headers.ts";
import { jsonContent, plainResponses } from "../../../shared/openapi.ts";
import {
  type ResponsesRequest,
  responsesRequestSchema,
  responsesResponseSchema,
} from "../../../shared/schemas/responses.ts";
import type { PassedThrough } from "../../providers/openai-compatible/responses.ts";
import {
  conversationOf,
  echoState,
  isStateful,
  statelessRequest,
  withStore,
} from "../../responses/conversation.ts";
import { routeResponses } from "../../responses/passthrough.ts";
import { type RequestOutcome, routedEvent } from "../../router/events.ts";
import type { PoolHonoEnv } from "../types.ts";
import { chargeEvent, spendTrailer } from "./charge.ts";
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

const responsesRoute = createRoute({
  method: "post",
  path: "/internal/v1/responses",
  summary: "Responses API request (the edge forwards POST /v1/responses): passed through or left to chat",
  description:
    "Routed like its chat translation. When the chosen model's endpoints serve /v1/responses (catalog " +
    "capability `responses`), the body is passed through and the upstream's answer relayed unchanged. " +
    `Otherwise the answer is a ${translateStatus} with ${responsesModeHeader}: translate (no native ` +
    "endpoint) or fallback (every native endpoint failed), and the edge answers through chat completions.",
  tags: tags.internal,
  security: signedSecurity,
  middleware: [recordFailures("responses"), jsonBody],
  request: { body: { required: true, content: jsonContent(responsesRequestSchema) } },
  responses: plainResponses({
    200: {
      description: "The upstream's response object, or its events as server-sent events",
      content: { ...jsonContent(responsesResponseSchema), "text/event-stream": { schema: z.string() } },
    },
    [translateStatus]: { description: "Not passed through: answer it through chat completions" },
    ...signedBodyErrors,
  }),
});

type Identity = Omit<RequestOutcome, "status">;

/** The event of a passthrough answer, with the usage the upstream reported. */
function passthroughEvent(identity: Identity, status: number, response: unknown): RequestEvent {
  const usage = usageOfResponse(response);
  return {
    ...routedEvent({
      ...identity,
      status,
      promptTokens: usage?.inputTokens ?? 0,
      completionTokens: usage?.outputTokens ?? 0,
    }),
    cached_tokens: usage?.cachedTokens ?? 0,
  };
}

const encoder = new TextEncoder();

/** The event that ends a passthrough stream broken after its first output: never a silent cut. */
function errorEvent(requestId: string): Uint8Array {
  const error = {
    type: "error",
    code: "upstream_error",
    message: `The upstream stream failed before completing (request ${requestId}).`,
    param: null,
  };
  return encoder.encode(sseEvent(error, "error"));
}

/**
 * Relays a passthrough stream unchanged; at its end the event is recorded and costed, and the cost sent
 * as an SSE comment trailer (clients ignore comments; the edge reads it). A stream that ends without a
 * terminal event gets an `error` event.
 */
function relayStream(
  c: Context<PoolHonoEnv>,
  {
    identity,
    answer,
    onFinal,
  }: {
    identity: Identity;
    answer: Extract<PassedThrough, { kind: "stream" }>;
    /** Runs on the final response before the stream closes; an answer there means it failed. */
    onFinal: (response: Record<string, unknown>) => Promise<Response | null> | null;
  },
): Response {
  const { head, reader, watcher } = answer;
  let ended = false;
  const end = async (controller: ReadableStreamDefaultController<Uint8Array> | null, ok: boolean) => {
    ended = true;
    const event = passthroughEvent(
      { ...identity, firstTokenAt: answer.firstTokenAt, answerChars: watcher.textChars },
      ok ? 200 : 502,
      watcher.finalResponse,
    );
    const charged = c.var.services.spend.charge(event, c.req.header(headers.keyId) ?? null);
    recordEvent(c, charged);
    answer.finish(ok ? "ok" : controller ? "failed" : "neutral");
    if (!controller) return;
    const kept = ok && watcher.finalResponse ? await onFinal(watcher.finalResponse) : null;
    if (!ok || kept) controller.enqueue(errorEvent(c.var.requestId));
    controller.enqueue(encoder.encode(`: ${spendTrailer(charged)}\n\n`));
    controller.close();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const bytes of head) controller.enqueue(bytes);
    },
    async pull(controller) {
      const chunk = await reader.read().catch(() => null);
      if (!chunk || chunk.done) {
        await end(controller, chunk?.done === true && watcher.terminal !== null);
        return;
      }
      if (watcher.push(chunk.value) === "malformed") {
        await reader.cancel().catch(() => undefined);
        await end(controller, false);
        return;
      }
      controller.enqueue(chunk.value);
    },
    cancel() {
      if (!ended) void end(null, false);
      return reader.cancel().catch(() => undefined);
    },
  });
  return c.body(body, 200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
}

/** What a stateful request needs after the answer: the request as asked and its whole conversation. */
interface Keeping {
  asked: ResponsesRequest;
  conversation: unknown[];
}

/** Saves a passthrough answer of a `store: true` request (the store's failure: its answer). */
async function keep(
  c: Context<PoolHonoEnv>,
  keeping: Keeping,
  response: Record<string, unknown>,
): Promise<Response | null> {
  if (keeping.asked.store !== true) return null;
  const saved = await withStore(c.var.requestId, () =>
    c.var.services.responseStore.save({
      id: String(response.id),
      tenantId: c.req.header(headers.tenant) ?? "unknown",
      keyId: c.req.header(headers.keyId) ?? null,
      model: String(response.model ?? keeping.asked.model),
      previousResponseId: keeping.asked.previous_response_id ?? null,
      inputItems: keeping.conversation,
      response,
    }),
  );
  return saved instanceof Response ? saved : null;
}

/** The request to answer: a stateful one with its stored chain expanded (or the store's failure). */
async function resolveRequest(
  c: Context<PoolHonoEnv>,
  asked: ResponsesRequest,
): Promise<{ request: ResponsesRequest; keeping: Keeping | null } | Response> {
  if (!isStateful(asked)) return { request: asked, keeping: null };
  const tenant = c.req.header(headers.tenant) ?? "unknown";
  const store = c.var.services.responseStore;
  const conversation = await withStore(c.var.requestId, () => conversationOf(store, tenant, asked));
  if (conversation instanceof Response) return conversation;
  return { request: statelessRequest(asked, conversation), keeping: { asked, conversation } };
}

/** Hands the request back to the edge's chat path (with the expanded conversation when stateful). */
function handBack(native: boolean, reason: string, keeping: Keeping | null): Response {
  const out: Record<string, string> = { [responsesModeHeader]: native ? "fallback" : "translate" };
  if (native) out[headers.fallbackReason] = reason.slice(0, 512);
  if (!keeping) return new Response(null, { status: translateStatus, headers: out });
  return Response.json({ input: keeping.conversation }, { status: translateStatus, headers: out });
}

/**
 * POST /internal/v1/responses: passthrough to endpoints serving `/v1/responses`, one event per request
 * like chat; a request for a model without such endpoints is handed back to the edge before any work.
 * A stateful request (`store`, `previous_response_id`) has its stored chain expanded first, and its
 * passthrough answer stored.
 */
export function registerResponsesRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(responsesRoute, async (c) => {
    const arrivedAt = Date.now();
    const resolved = await resolveRequest(c, c.req.valid("json"));
    if (resolved instanceof Response) return resolved;
    const { request, keeping } = resolved;
    const chat = responsesToChat(request);
    const ctx = routingContext(c, arrivedAt);
    const route = await routeResponses({ router: c.var.services.routing.router, request, chat, ctx });
    if (route.kind === "translate") return handBack(route.native, route.reason, keeping);
    const { decision, served, answer } = route;
    c.header(responsesModeHeader, "passthrough");
    setRoutingHeaders(c, served, decision);
    const identity: Identity = {
      ...requestIdentity(c, request.user),
      route: "responses",
      arrivedAt,
      decision,
      served,
    };
    if (answer.kind === "stream") {
      const onFinal = (final: Record<string, unknown>) => (keeping ? keep(c, keeping, final) : null);
      return relayStream(c, { identity, answer, onFinal });
    }
    recordEvent(c, chargeEvent(c, passthroughEvent(identity, 200, answer.response)));
    if (!keeping) return c.body(answer.text, 200, { "content-type": "application/json" });
    const response = echoState(answer.response as Record<string, unknown>, keeping.asked);
    const failed = await keep(c, keeping, response);
    return failed ?? c.json(response);
  });
}
