import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { parseSpendReport, type SpendReport, spendHeaders } from "../../shared/schemas/spend.ts";
import type { VerifiedKey } from "./api-keys.ts";
import type { ChatContext } from "./chat-completions.ts";
import type { SpendHold } from "./spend-guard.ts";

const encoder = new TextEncoder();

/** Whether any budget or token limit applies to the key (else nothing is reserved). */
function metered(key: VerifiedKey): boolean {
  return (key.budgets?.limits.length ?? 0) > 0 || Boolean(key.tokensPerMinute);
}

/**
 * Reserves a chat request's worst case before it is forwarded: prompt tokens bounded by the request's
 * UTF-8 bytes (every byte-level BPE token is at least one byte), completion tokens by `max_tokens` or
 * `max_completion_tokens`, else BUDGET_DEFAULT_RESERVE_TOKENS. Throws the 429 of a passed hard limit.
 */
export async function holdSpend(ctx: ChatContext, request: ChatCompletionRequest): Promise<SpendHold | null> {
  if (!metered(ctx.apiKey)) return null;
  const completionTokens =
    request.max_completion_tokens ?? request.max_tokens ?? ctx.services.config.BUDGET_DEFAULT_RESERVE_TOKENS;
  return ctx.services.spend.hold(ctx.apiKey, {
    promptTokens: encoder.encode(JSON.stringify(request)).length,
    completionTokens,
  });
}

/** The cost the pool reported on a complete answer's headers. */
export function spendReportOfHeaders(response: Response): SpendReport | null {
  const usd = response.headers.get(spendHeaders.costUsd);
  const tokens = response.headers.get(spendHeaders.tokens);
  return usd === null || tokens === null ? null : parseSpendReport(`usd=${usd};tokens=${tokens}`);
}

/** Settles a hold in the background: with the reported cost, keeping the reservation (null: not reported), or giving it back ("release"). */
export function finishHold(
  ctx: ChatContext,
  hold: SpendHold | null,
  report: SpendReport | null | "release",
): void {
  if (!hold) return;
  ctx.background("spend settle", report === "release" ? hold.release() : hold.settle(report));
}
