import type { Completion } from "../../shared/formats/chat/types.ts";
import { headers } from "../../shared/headers.ts";
import { type ChatCompletionRequest, chatCompletionResponseSchema } from "../../shared/schemas/chat.ts";
import { spendHeaders } from "../../shared/schemas/spend.ts";
import { tracedCacheLookup, tracedForward } from "../lib/tracing/chat-spans.ts";
import type { RequestTrace } from "../lib/tracing/span.ts";
import type { VerifiedKey } from "./api-keys.ts";
import { edgeEvent } from "./edge-events.ts";
import type { EdgeServices } from "./edge-services.ts";
import { chatFallbackResponse, fallbackConfig } from "./fallback.ts";
import { type GuardrailEventFields, guardrailDecisionsHeader } from "./guardrails.ts";
import type { FailureReason, ForwardResult } from "./pool-client.ts";
import type { InFlight } from "./response-cache.ts";
import type { SpendHold } from "./spend-guard.ts";
import { finishHold, holdSpend, spendReportOfHeaders } from "./spend-hook.ts";
import { completionAsSse } from "./sse.ts";
import { startRelay } from "./stream-relay.ts";

/** How this request uses the response cache (decided from the request and its headers). */
export type CachePolicy = { mode: "off" } | { mode: "use" | "refresh"; ttlSeconds: number | undefined };

export interface ChatContext {
  services: EdgeServices;
  apiKey: VerifiedKey;
  requestId: string;
  /** The client's trace context, forwarded signed. */
  traceparent?: string;
  /** The client's own request id, if it sent a valid one. */
  clientRequestId?: string | undefined;
  /** Signed pool directives: semantic cache and payload logging (edge/services/pool-directives.ts). */
  semanticCache?: string | undefined;
  payloadLog?: string | undefined;
  /** When the request reached the edge (epoch ms), for the latency of answers given here. */
  arrivedAt: number;
  /** Runs work after the response (waitUntil on Workers). */
  background(label: string, work: Promise<unknown>): void;
  /** What the guardrails decided: in the edge's own events, and sent signed for the pool's. */
  guardrailEvent?: GuardrailEventFields | undefined;
  /** The request's spans, when tracing is on. */
  trace?: RequestTrace | undefined;
}

/** What an edge event names of the request: its model, end user and route (`chat` unless said). */
export interface RecordedRequest {
  model: string;
  user?: string | undefined;
  route?: string;
}

/** Records a request the edge answered itself, so it is counted with the pool's requests. */
export function recordAtEdge(
  ctx: ChatContext,
  request: RecordedRequest,
  outcome: { cache: "HIT" | "MISS" | "BYPASS"; status: number; fallbackReason: string },
): void {
  const event = edgeEvent({
    requestId: ctx.requestId,
    tenant: ctx.apiKey.tenantId,
    keyId: ctx.apiKey.keyId,
    userId: request.user,
    ...(request.route ? { route: request.route } : {}),
    model: request.model,
    arrivedAt: ctx.arrivedAt,
    ...outcome,
  });
  const flush = ctx.services.events.record({ ...event, ...ctx.guardrailEvent });
  if (flush) ctx.background("edge event", flush);
}

const passedThrough = [
  headers.tier,
  headers.route,
  headers.provider,
  headers.region,
  headers.modelVersion,
  headers.fallbackReason,
  headers.droppedFields,
  headers.ragRule,
  headers.ragScore,
  headers.ragCitations,
  headers.cache,
  headers.cacheKind,
  headers.cacheSimilarity,
  spendHeaders.costUsd,
  spendHeaders.tokens,
  headers.serverTiming,
];

/** The completion in `body` with every field it carries (tool calls, logprobs), once its shape checks. */
function parseCompletion(body: string): Completion | null {
  try {
    const json: unknown = JSON.parse(body);
    return chatCompletionResponseSchema.safeParse(json).success ? (json as Completion) : null;
  } catch {
    return null;
  }
}

/**
 * A stored or shared completion (validated when it was stored) as the client asked for it: JSON, or
 * replayed as SSE. Null if it cannot be replayed.
 */
function fromStored(
  body: string,
  request: ChatCompletionRequest,
  extra: Record<string, string>,
): Response | null {
  if (!request.stream) {
    return new Response(body, { status: 200, headers: { ...extra, "content-type": "application/json" } });
  }
  const completion = parseCompletion(body);
  if (!completion) return null;
  return new Response(completionAsSse(completion, request.stream_options?.include_usage === true), {
    status: 200,
    headers: { ...extra, "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

/**
 * Answers a validated chat request: response cache (read with a deadline, coalescing identical
 * concurrent misses), signed forward to the best region, SSE relay, and the deterministic fallback
 * when no pool can answer.
 */
export async function answerChat(
  ctx: ChatContext,
  request: ChatCompletionRequest,
  policy: CachePolicy,
): Promise<Response> {
  const base = { [headers.requestId]: ctx.requestId };
  if (policy.mode === "off") return forwardChat(ctx, request, null, { ...base, [headers.cache]: "BYPASS" });

  const key = await ctx.services.cache.keyFor(ctx.apiKey.tenantId, request);
  const miss = { ...base, [headers.cache]: "MISS" };
  if (policy.mode === "use") {
    const lookup = await tracedCacheLookup(ctx.trace, () =>
      ctx.services.cache.lookup(key, (write) => ctx.background("cache write", write)),
    );
    if (lookup.status === "hit") {
      const hit = fromStored(lookup.body, request, {
        ...base,
        [headers.cache]: "HIT",
        [headers.cacheTier]: lookup.tier,
      });
      if (hit) {
        recordAtEdge(ctx, request, { cache: "HIT", status: 200, fallbackReason: "" });
        return hit;
      }
    }
    const shared = ctx.services.cache.follow(key, Date.now() + ctx.services.config.POOL_TIMEOUT_MS);
    if (shared) {
      const body = await shared;
      const coalesced = body ? fromStored(body, request, { ...miss, [headers.coalesced]: "true" }) : null;
      if (coalesced) return coalesced;
      return forwardChat(ctx, request, null, miss);
    }
  }
  const lead = ctx.services.cache.lead(key, Date.now() + ctx.services.config.POOL_TIMEOUT_MS);
  const ttlSeconds = policy.ttlSeconds ?? ctx.apiKey.cacheTtlSeconds ?? undefined;
  try {
    return await forwardChat(ctx, request, { key, lead, ttlSeconds }, miss);
  } catch (error: unknown) {
    lead.share(null);
    throw error;
  }
}

interface CacheWrite {
  key: string;
  lead: InFlight;
  ttlSeconds: number | undefined;
}

/** One forward of a chat request: what the steps below share. */
interface Forward {
  ctx: ChatContext;
  request: ChatCompletionRequest;
  /** Where the answer is stored and shared with coalesced requests (null when not cached). */
  write: CacheWrite | null;
  /** Headers every answer of this request carries. */
  out: Record<string, string>;
  /** The budget and token-limit reservation, settled when the answer is known. */
  hold: SpendHold | null;
}

type Forwarded = Extract<ForwardResult, { ok: true }>;

/** Sends the request to the best region, then answers with what came back or the fallback. */
async function forwardChat(
  ctx: ChatContext,
  request: ChatCompletionRequest,
  write: CacheWrite | null,
  out: Record<string, string>,
): Promise<Response> {
  const hold = await holdSpend(ctx, request);
  const forward: Forward = { ctx, request, write, out: { ...out, ...hold?.headers }, hold };
  const result = await callPool(forward);
  if (!result.ok) return fallback(forward, result.reason);
  const responseHeaders = answerHeaders(forward.out, result);
  if (!result.response.ok) return passOnRefusal(forward, result, responseHeaders);
  if (request.stream) return relayStream(forward, result, responseHeaders);
  return relayJson(forward, result, responseHeaders);
}

function isSemanticHit(response: Response): boolean {
  return response.headers.get(headers.cacheKind) === "semantic";
}

/** The signed call to the pool, with the edge's deadline. */
function callPool({ ctx, request }: Forward): Promise<ForwardResult> {
  const { services, requestId, apiKey } = ctx;
  return tracedForward(ctx.trace, ctx.traceparent, (traceparent) =>
    services.pool.forward({
      method: "POST",
      path: "/internal/v1/chat/completions",
      body: JSON.stringify(request),
      requestId,
      tenant: apiKey.tenantId,
      keyId: apiKey.keyId,
      allowedModels: apiKey.allowedModels,
      traceparent,
      clientRequestId: ctx.clientRequestId,
      guardrailDecisions: guardrailDecisionsHeader(ctx.guardrailEvent),
      semanticCache: ctx.semanticCache,
      payloadLog: ctx.payloadLog,
      deadline: Date.now() + services.config.POOL_TIMEOUT_MS,
      arrivedAt: ctx.arrivedAt,
    }),
  );
}

/** The deterministic fallback answer, recorded as answered at the edge; coalesced waiters get nothing. */
function fallback({ ctx, request, write, out, hold }: Forward, reason: FailureReason): Response {
  const { services, requestId } = ctx;
  write?.lead.share(null);
  finishHold(ctx, hold, "release");
  recordAtEdge(ctx, request, {
    cache: out[headers.cache] === "MISS" ? "MISS" : "BYPASS",
    status: services.config.FALLBACK_STATUS,
    fallbackReason: reason,
  });
  return chatFallbackResponse({
    reason,
    model: request.model,
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    requestId,
    config: fallbackConfig(services.config),
    extraHeaders: out,
  });
}

/**
 * Shares a complete answer with coalesced waiters and writes it to the cache in the background. A
 * semantic hit is not copied into the exact cache: it would outlive the stored answer's TTL.
 */
function storeAnswer({ ctx, write }: Forward, body: string, semanticHit = false): void {
  write?.lead.share(body);
  const written = write && !semanticHit ? ctx.services.cache.set(write.key, body, write.ttlSeconds) : null;
  if (written) ctx.background("cache write", written);
}

/** This request's headers, the answering region and the pool's routing headers. */
function answerHeaders(out: Record<string, string>, result: Forwarded): Record<string, string> {
  const responseHeaders: Record<string, string> = { ...out, [headers.region]: result.region };
  for (const name of passedThrough) {
    const value = result.response.headers.get(name);
    if (value) responseHeaders[name] = value;
  }
  return responseHeaders;
}

/** The pool refused the request itself (4xx): its OpenAI-shaped error goes to the client as is. */
async function passOnRefusal(
  { ctx, write, hold }: Forward,
  result: Forwarded,
  responseHeaders: Record<string, string>,
): Promise<Response> {
  result.settle(false);
  write?.lead.share(null);
  finishHold(ctx, hold, "release");
  return new Response(await result.response.text(), {
    status: result.response.status,
    headers: { ...responseHeaders, "content-type": "application/json" },
  });
}

/**
 * Relays the pool's SSE stream once its first token arrived (before that a failure still falls back);
 * the complete answer is stored when the stream ends well.
 */
async function relayStream(
  forward: Forward,
  result: Forwarded,
  responseHeaders: Record<string, string>,
): Promise<Response> {
  const { response } = result;
  const type = response.headers.get("content-type") ?? "";
  if (!response.body || !type.includes("text/event-stream")) {
    result.settle(true);
    await response.body?.cancel().catch(() => undefined);
    return fallback(forward, "malformed_response");
  }
  const relay = await startRelay(response.body, result.deadlineSignal, forward.ctx.requestId);
  if (!relay.ok) {
    result.settle(true);
    return fallback(forward, relay.reason);
  }
  result.settle(false);
  forward.ctx.background(
    "stream completion",
    relay.completed.then((body) => {
      finishHold(forward.ctx, forward.hold, relay.spend());
      return body ? storeAnswer(forward, body, isSemanticHit(response)) : forward.write?.lead.share(null);
    }),
  );
  return new Response(relay.body, {
    status: 200,
    headers: { ...responseHeaders, "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

/** Passes on a complete JSON answer after checking its shape, and stores it. */
async function relayJson(
  forward: Forward,
  result: Forwarded,
  responseHeaders: Record<string, string>,
): Promise<Response> {
  let body: string;
  try {
    body = await result.response.text();
  } catch {
    result.settle(true);
    return fallback(forward, result.deadlineSignal.aborted ? "deadline_exceeded" : "upstream_error");
  }
  if (!parseCompletion(body)) {
    result.settle(true);
    return fallback(forward, "malformed_response");
  }
  result.settle(false);
  finishHold(forward.ctx, forward.hold, spendReportOfHeaders(result.response));
  storeAnswer(forward, body, isSemanticHit(result.response));
  return new Response(body, {
    status: 200,
    headers: { ...responseHeaders, "content-type": "application/json" },
  });
}
