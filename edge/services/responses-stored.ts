import { z } from "zod";
import { GatewayError } from "../../shared/errors.ts";
import { storeUnavailableStatus } from "../../shared/formats/responses/passthrough.ts";
import { responsesToChat } from "../../shared/formats/responses/to-chat.ts";
import { SseParser, sseEvent } from "../../shared/formats/sse.ts";
import type { ResponsesRequest } from "../../shared/schemas/responses.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { answerChat, type ChatContext } from "./chat-completions.ts";
import { forwardJson } from "./json-forward.ts";
import type { PoolCall } from "./pool-client.ts";
import type { ResponsesJob } from "./responses-answer.ts";
import { translateAnswer } from "./translated-answer.ts";

/** Whether a request needs the response store: it is stored, or continues a stored response. */
export function isStateful(request: ResponsesRequest): boolean {
  return request.store === true || Boolean(request.previous_response_id);
}

/** The 503 the client gets when the response store is down (the pool says so with its own status). */
export function storeUnavailableError(): GatewayError {
  return new GatewayError("UPSTREAM_UNAVAILABLE", "The response store is unavailable; try again shortly.", {
    headers: { "retry-after": "1" },
  });
}

function signedCall(ctx: ChatContext, call: Pick<PoolCall, "method" | "path" | "body">): PoolCall {
  return {
    ...call,
    requestId: ctx.requestId,
    tenant: ctx.apiKey.tenantId,
    keyId: ctx.apiKey.keyId,
    allowedModels: ctx.apiKey.allowedModels,
    deadline: Date.now() + ctx.services.config.POOL_TIMEOUT_MS,
    recordHealth: false,
  };
}

/** Stores a translated answer through the pool; false when it could not be stored. */
async function save(
  ctx: ChatContext,
  {
    request,
    conversation,
    response,
  }: { request: ResponsesRequest; conversation: unknown[]; response: unknown },
): Promise<boolean> {
  const body = JSON.stringify({
    response,
    input_items: conversation,
    previous_response_id: request.previous_response_id ?? null,
  });
  const result = await ctx.services.pool.forward(
    signedCall(ctx, { method: "POST", path: "/internal/v1/responses/stored", body }),
  );
  if (!result.ok) return false;
  await result.response.body?.cancel().catch(() => undefined);
  result.settle(false);
  return result.response.status === 204;
}

/** The final response object of a Responses event stream, as it passes through. */
function capturingFinal(onFinal: (response: unknown) => Promise<boolean>, requestId: string) {
  const parser = new SseParser();
  let final: unknown = null;
  const encoder = new TextEncoder();
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (const data of parser.push(chunk)) {
        const event = JSON.parse(data) as { type?: string; response?: unknown };
        if (event.type === "response.completed" || event.type === "response.incomplete")
          final = event.response;
      }
      controller.enqueue(chunk);
    },
    async flush(controller) {
      if (final && (await onFinal(final))) return;
      const message = `The response could not be stored (request ${requestId}).`;
      const error = { type: "error", code: "store_unavailable", message, param: null };
      controller.enqueue(encoder.encode(sseEvent(error, "error")));
    },
  });
}

/**
 * Answers a stateful request the pool handed back (no native endpoint): its whole conversation (the
 * stored chain expanded by the pool) is translated to chat and answered without the response cache;
 * with `store: true` the answer is stored before it is complete for the client (a JSON answer waits for
 * the store; a stream ends with an `error` event when it could not be stored).
 */
export async function answerStateful(
  ctx: ChatContext,
  job: ResponsesJob,
  conversation: unknown[],
): Promise<Response> {
  const { previous_response_id: _previous, store: _store, ...rest } = job.request;
  const chat = responsesToChat({ ...rest, input: conversation as ResponsesRequest["input"] });
  parseOrThrow(ctx.services.chatLimits, chat);
  const answer = await translateAnswer(await answerChat(ctx, chat, { mode: "off" }), job.translation);
  if (job.request.store !== true || answer.status !== 200) return answer;
  const keep = (response: unknown) => save(ctx, { request: job.request, conversation, response });
  if (answer.body && (answer.headers.get("content-type") ?? "").includes("text/event-stream")) {
    return new Response(answer.body.pipeThrough(capturingFinal(keep, ctx.requestId)), answer);
  }
  const text = await answer.text();
  if (!(await keep(JSON.parse(text)))) throw storeUnavailableError();
  return new Response(text, answer);
}

/**
 * A stored-response call (read, input items, delete) forwarded to the pool for the key's tenant: the
 * pool's status and JSON body (a 404 in the error shape passes as is); the store or every pool being
 * down is a 503.
 */
export async function forwardStoreCall(
  ctx: ChatContext,
  call: Pick<PoolCall, "method" | "path">,
): Promise<{ status: number; body: string }> {
  const result = await forwardJson(
    ctx.services.pool,
    { ...signedCall(ctx, call), idempotent: call.method === "GET" },
    z.looseObject({}),
  );
  if (!result.ok) throw storeUnavailableError();
  if (result.status === storeUnavailableStatus) throw storeUnavailableError();
  return { status: result.status, body: result.body };
}
