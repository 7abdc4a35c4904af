import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { RequestEvent } from "../../../shared/events.ts";
import { headers } from "../../../shared/headers.ts";
import type { ChatCompletionRequest, ChatCompletionResponse } from "../../../shared/schemas/chat.ts";
import { parseSemanticDirective, type SemanticDirective } from "../../../shared/schemas/semantic-cache.ts";
import { rulesChatChunks } from "../../providers/rules/chat.ts";
import { routedEvent } from "../../router/events.ts";
import type { PendingEntry } from "../../semantic-cache/service.ts";
import type { PoolHonoEnv } from "../types.ts";
import { logPayload } from "./payload-log.ts";
import { recordEvent, requestIdentity } from "./shared.ts";

/** A semantic lookup's result as the chat route uses it. */
export type SemanticStep =
  | { kind: "off" }
  | { kind: "hit"; response: string; similarity: number }
  | { kind: "miss"; pending: PendingEntry; directive: SemanticDirective };

/**
 * Looks a plain chat request up in the semantic cache when the edge asked for it (signed directive):
 * only with a tenant, never for RAG requests (the caller passes only those without grounding).
 */
export async function semanticLookup(
  c: Context<PoolHonoEnv>,
  request: ChatCompletionRequest,
): Promise<SemanticStep> {
  const directive = parseSemanticDirective(c.req.header(headers.poolSemanticCache));
  const tenant = c.get("caller").tenant;
  if (!directive || !tenant) return { kind: "off" };
  const found = await c.get("services").semanticCache.lookup(tenant, request, {
    threshold: directive.threshold,
    refresh: directive.refresh,
    allowedModels: c.get("caller").allowedModels,
  });
  if (found.kind === "skip") return { kind: "off" };
  if (found.kind === "hit") return found;
  return { kind: "miss", pending: found.pending, directive };
}

/** Answers from a semantic hit: JSON or SSE as asked, with the hit's headers and its own event. */
export function serveSemanticHit(
  c: Context<PoolHonoEnv>,
  hit: { response: string; similarity: number },
  request: ChatCompletionRequest,
  arrivedAt: number,
): Response {
  c.header(headers.cache, "HIT");
  c.header(headers.cacheKind, "semantic");
  c.header(headers.cacheSimilarity, hit.similarity.toFixed(4));
  c.header(headers.region, c.get("services").config.POOL_REGION);
  const completion = JSON.parse(hit.response) as ChatCompletionResponse;
  const event: RequestEvent = {
    ...routedEvent({ ...requestIdentity(c, request.user), route: "chat", arrivedAt, status: 200 }),
    cache: "HIT",
    tier: "cache",
    provider: "semantic-cache",
    model: completion.model,
  };
  recordEvent(c, event);
  logPayload(c, "chat", hit.response);
  if (!request.stream) {
    return c.body(hit.response, 200, { "content-type": "application/json" });
  }
  return streamSSE(c, async (sse) => {
    for (const chunk of rulesChatChunks(completion)) await sse.writeSSE({ data: JSON.stringify(chunk) });
    await sse.writeSSE({ data: "[DONE]" });
  });
}

/** Keeps a complete answer of a semantic miss (when it may be shared) for later paraphrases. */
export function keepSemanticAnswer(
  c: Context<PoolHonoEnv>,
  step: SemanticStep,
  completion: ChatCompletionResponse,
): void {
  if (step.kind !== "miss") return;
  c.get("services").semanticCache.store(step.pending, JSON.stringify(completion), step.directive.ttlSeconds);
}
