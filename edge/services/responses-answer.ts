import { canonicalJson } from "../../shared/canonical-json.ts";
import {
  responsesModeHeader,
  storeUnavailableStatus,
  translateStatus,
  usageOfResponse,
} from "../../shared/formats/responses/passthrough.ts";
import { sseEvent } from "../../shared/formats/sse.ts";
import { headers } from "../../shared/headers.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import type { ResponsesRequest } from "../../shared/schemas/responses.ts";
import { spendHeaders } from "../../shared/schemas/spend.ts";
import { sha256Hex } from "../../shared/signing.ts";
import { answerChat, type CachePolicy, type ChatContext, recordAtEdge } from "./chat-completions.ts";
import { chatFallbackResponse, fallbackConfig } from "./fallback.ts";
import type { FailureReason, ForwardResult } from "./pool-client.ts";
import { NativeMemo } from "./responses-memo.ts";
import { answerStateful, isStateful, storeUnavailableError } from "./responses-stored.ts";
import type { SpendHold } from "./spend-guard.ts";
import { finishHold, holdSpend, spendReportOfHeaders } from "./spend-hook.ts";
import { SpendSseParser } from "./sse.ts";
import { type AnswerTranslation, translateAnswer } from "./translated-answer.ts";

/** A validated Responses request and how it is answered through chat when it is not passed through. */
export interface ResponsesJob {
  request: ResponsesRequest;
  /** Its chat translation (routing, spend reservation, the translated path). */
  chat: ChatCompletionRequest;
  policy: CachePolicy;
  translation: AnswerTranslation;
}

/** Tenant and model pairs the pool said have no endpoint serving `/v1/responses` (per isolate, for a minute). */
const translatedModels = new NativeMemo(60_000, 1_000);

type Forwarded = Extract<ForwardResult, { ok: true }>;

const routingHeaders = [
  headers.tier,
  headers.route,
  headers.provider,
  headers.modelVersion,
  headers.fallbackReason,
  spendHeaders.costUsd,
  spendHeaders.tokens,
];

/**
 * The cache key of a passed-through answer: the whole Responses body (every field can change the
 * answer), in its own digest space so it never meets a chat completion's key.
 */
async function cacheKeyOf(tenant: string, request: ResponsesRequest): Promise<string> {
  const digest = await sha256Hex(`${tenant}\nresponses\n${canonicalJson(request)}`);
  return `tg:resp:${tenant}:${digest}`;
}

/** Only complete, stateless answers are cached: not streams, not stored or continued responses. */
function cacheable(job: ResponsesJob): boolean {
  return job.policy.mode !== "off" && job.request.stream !== true && !isStateful(job.request);
}

/** The conversation a handed-back stateful request carries (`{ input }`, expanded by the pool). */
async function handedBackConversation(response: Response): Promise<unknown[] | null> {
  const body = (await response.json().catch(() => null)) as { input?: unknown } | null;
  return Array.isArray(body?.input) ? body.input : null;
}

/** The request as its edge event names it. */
const recorded = (request: ResponsesRequest) => ({
  model: request.model,
  user: request.user,
  route: "responses",
});

/** The chat path: translated to a chat completion, answered (cache, routing, fallback) and back. */
async function translated(ctx: ChatContext, job: ResponsesJob): Promise<Response> {
  return translateAnswer(await answerChat(ctx, job.chat, job.policy), job.translation);
}

/** The deterministic fallback in the Responses shape, when no pool could answer. */
function fallback(
  ctx: ChatContext,
  job: ResponsesJob,
  { reason, out }: { reason: FailureReason; out: Record<string, string> },
): Promise<Response> {
  const config = ctx.services.config;
  recordAtEdge(ctx, recorded(job.request), {
    cache: out[headers.cache] === "MISS" ? "MISS" : "BYPASS",
    status: config.FALLBACK_STATUS,
    fallbackReason: reason,
  });
  const answer = chatFallbackResponse({
    reason,
    model: job.request.model,
    stream: job.request.stream === true,
    includeUsage: true,
    requestId: ctx.requestId,
    config: fallbackConfig(config),
    extraHeaders: out,
  });
  return translateAnswer(answer, job.translation);
}

function callPool(ctx: ChatContext, request: ResponsesRequest): Promise<ForwardResult> {
  return ctx.services.pool.forward({
    method: "POST",
    path: "/internal/v1/responses",
    body: JSON.stringify(request),
    requestId: ctx.requestId,
    tenant: ctx.apiKey.tenantId,
    keyId: ctx.apiKey.keyId,
    allowedModels: ctx.apiKey.allowedModels,
    traceparent: ctx.traceparent,
    clientRequestId: ctx.clientRequestId,
    deadline: Date.now() + ctx.services.config.POOL_TIMEOUT_MS,
  });
}

/** This request's headers plus the answering region and the pool's routing and cost headers. */
function answerHeaders(out: Record<string, string>, result: Forwarded): Record<string, string> {
  const merged: Record<string, string> = { ...out, [headers.region]: result.region };
  for (const name of routingHeaders) {
    const value = result.response.headers.get(name);
    if (value) merged[name] = value;
  }
  return merged;
}

const encoder = new TextEncoder();

/**
 * Relays a passed-through stream as it comes (the pool committed it at its first output event). The
 * cost trailer settles the spend hold; a stream broken on the way ends with an `error` event.
 */
function relayStream(
  ctx: ChatContext,
  { result, hold, out }: { result: Forwarded; hold: SpendHold | null; out: Record<string, string> },
): Response {
  const upstream = result.response.body;
  if (!upstream) throw new Error("a stream without a body");
  const reader = upstream.getReader();
  const parser = new SpendSseParser();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    finishHold(ctx, hold, parser.spend);
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await reader.read().catch(() => null);
      if (!chunk) {
        const code = result.deadlineSignal.aborted ? "deadline_exceeded" : "upstream_error";
        const message = `The upstream stream failed (request ${ctx.requestId}).`;
        controller.enqueue(encoder.encode(sseEvent({ type: "error", code, message, param: null }, "error")));
        controller.close();
        finish();
        return;
      }
      if (chunk.done) {
        controller.close();
        finish();
        return;
      }
      parser.push(chunk.value);
      controller.enqueue(chunk.value);
    },
    cancel() {
      finish();
      return reader.cancel().catch(() => undefined);
    },
  });
  return new Response(body, {
    status: 200,
    headers: { ...out, "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

/** Answers with a passed-through answer (JSON checked to be a response object, or a stream). */
async function relayAnswer(
  ctx: ChatContext,
  job: ResponsesJob,
  forward: { result: Forwarded; hold: SpendHold | null; key: string | null; out: Record<string, string> },
): Promise<Response> {
  const { result, hold, key, out } = forward;
  const responseHeaders = answerHeaders(out, result);
  const type = result.response.headers.get("content-type") ?? "";
  if (job.request.stream === true && type.includes("text/event-stream")) {
    result.settle(false);
    return relayStream(ctx, { result, hold, out: responseHeaders });
  }
  const text = await result.response.text().catch(() => null);
  const parsed = text === null ? null : parseResponse(text);
  if (text === null || !parsed) {
    result.settle(true);
    finishHold(ctx, hold, "release");
    return fallback(ctx, job, { reason: text === null ? "upstream_error" : "malformed_response", out });
  }
  result.settle(false);
  finishHold(ctx, hold, spendReportOfHeaders(result.response));
  const written = key
    ? ctx.services.cache.set(key, text, job.policy.mode === "off" ? undefined : ttlOf(ctx, job))
    : null;
  if (written) ctx.background("cache write", written);
  return new Response(text, {
    status: 200,
    headers: { ...responseHeaders, "content-type": "application/json" },
  });
}

function ttlOf(ctx: ChatContext, job: ResponsesJob): number | undefined {
  const policyTtl = job.policy.mode === "off" ? undefined : job.policy.ttlSeconds;
  return policyTtl ?? ctx.apiKey.cacheTtlSeconds ?? undefined;
}

/** A Responses API response object with usage, or null. */
function parseResponse(text: string): Record<string, unknown> | null {
  try {
    const body = JSON.parse(text) as Record<string, unknown> | null;
    return body?.object === "response" && usageOfResponse(body) !== null ? body : null;
  } catch {
    return null;
  }
}

/**
 * Answers a validated Responses request. The pool decides: a model with endpoints serving
 * `/v1/responses` gets the body passed through and its answer relayed unchanged (cached under the
 * Responses body when cacheable); any other model is answered through the chat path (the pool says so
 * before doing any work, and the answer is remembered per tenant and model for a minute). When no pool
 * answers, the deterministic fallback is sent in the Responses shape.
 */
export async function answerResponses(ctx: ChatContext, job: ResponsesJob): Promise<Response> {
  const { request } = job;
  const tenant = ctx.apiKey.tenantId;
  const stateful = isStateful(request);
  if (!stateful && translatedModels.has(tenant, request.model)) return translated(ctx, job);
  const base = { [headers.requestId]: ctx.requestId };
  const key = cacheable(job) ? await cacheKeyOf(tenant, request) : null;
  if (key && job.policy.mode === "use") {
    const lookup = await ctx.services.cache.lookup(key);
    if (lookup.status === "hit") {
      recordAtEdge(ctx, recorded(request), { cache: "HIT", status: 200, fallbackReason: "" });
      return new Response(lookup.body, {
        status: 200,
        headers: {
          ...base,
          [headers.cache]: "HIT",
          [headers.cacheTier]: lookup.tier,
          "content-type": "application/json",
        },
      });
    }
  }
  const out = { ...base, [headers.cache]: key ? "MISS" : "BYPASS" };
  const hold = await holdSpend(ctx, job.chat);
  const withHold = { ...out, ...hold?.headers };
  const result = await callPool(ctx, request);
  if (!result.ok) {
    finishHold(ctx, hold, "release");
    return fallback(ctx, job, { reason: result.reason, out: withHold });
  }
  const mode = result.response.headers.get(responsesModeHeader);
  if (result.response.status === translateStatus && (mode === "translate" || mode === "fallback")) {
    result.settle(false);
    finishHold(ctx, hold, "release");
    if (stateful) {
      const conversation = await handedBackConversation(result.response);
      if (!conversation) return fallback(ctx, job, { reason: "malformed_response", out: withHold });
      return answerStateful(ctx, job, conversation);
    }
    await result.response.body?.cancel().catch(() => undefined);
    if (mode === "translate") translatedModels.add(tenant, request.model);
    return translated(ctx, job);
  }
  if (result.response.status === storeUnavailableStatus) {
    result.settle(false);
    finishHold(ctx, hold, "release");
    await result.response.body?.cancel().catch(() => undefined);
    throw storeUnavailableError();
  }
  if (!result.response.ok) {
    result.settle(false);
    finishHold(ctx, hold, "release");
    return new Response(await result.response.text(), {
      status: result.response.status,
      headers: { ...answerHeaders(withHold, result), "content-type": "application/json" },
    });
  }
  return relayAnswer(ctx, job, { result, hold, key, out: withHold });
}
