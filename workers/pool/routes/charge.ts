import type { Context } from "hono";
import type { RequestEvent } from "../../../shared/events.ts";
import { headers } from "../../../shared/headers.ts";
import type { ChatCompletionRequest, ChatCompletionResponse } from "../../../shared/schemas/chat.ts";
import { formatSpendReport, spendHeaders, spendTrailerPrefix } from "../../../shared/schemas/spend.ts";
import type { Served } from "../../router/router.ts";
import type { PipedStream } from "../../router/sse.ts";
import { spendReportOf } from "../../spend/service.ts";
import { withMeasuredUsage } from "../../spend/usage.ts";
import type { PoolHonoEnv } from "../types.ts";

/** The event costed at the registry's price, with its key; the cost headers go on the answer. */
export function chargeEvent(c: Context<PoolHonoEnv>, event: RequestEvent): RequestEvent {
  const charged = c.get("services").spend.charge(event, c.req.header(headers.keyId) ?? null);
  const report = spendReportOf(charged);
  c.header(spendHeaders.costUsd, String(report.usd));
  c.header(spendHeaders.tokens, String(report.tokens));
  return charged;
}

/** A complete answer's event, its tokens measured by the pool when the upstream sent no usage, costed. */
export async function chargeCompletion(
  c: Context<PoolHonoEnv>,
  event: RequestEvent,
  { request, completion }: { request: ChatCompletionRequest; completion: ChatCompletionResponse },
): Promise<RequestEvent> {
  const measured = await withMeasuredUsage(
    event,
    {
      model: completion.model,
      messages: request.messages,
      answer: completion.choices.map((choice) => choice.message.content ?? "").join(""),
    },
    completion.usage !== undefined && completion.usage !== null,
  );
  return chargeEvent(c, measured);
}

/** A complete stream's event, measured and costed (its cost travels in the stream's trailer). */
export async function chargeStream(
  c: Context<PoolHonoEnv>,
  event: RequestEvent,
  { request, served, piped }: { request: ChatCompletionRequest; served: Served; piped: PipedStream },
): Promise<RequestEvent> {
  const measured = await withMeasuredUsage(
    { ...event, cached_tokens: piped.cachedTokens },
    { model: served.model, messages: request.messages, answer: piped.text },
    piped.sawUsage,
  );
  return c.get("services").spend.charge(measured, c.req.header(headers.keyId) ?? null);
}

/** The stream trailer (an SSE comment) reporting what the answer cost. */
export function spendTrailer(event: RequestEvent): string {
  return `${spendTrailerPrefix}${formatSpendReport(spendReportOf(event))}`;
}
