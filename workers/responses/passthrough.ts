import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import type { ResponsesRequest } from "../../shared/schemas/responses.ts";
import { type PassedThrough, passThroughResponses } from "../providers/openai-compatible/responses.ts";
import type { EndpointSpec } from "../providers/types.ts";
import type { TierRoute } from "../registry/types.ts";
import type { RouteDecision } from "../router/policy.ts";
import type { Router, RoutingContext, Served } from "../router/router.ts";

/** Whether an endpoint serves `POST /v1/responses` itself (an OpenAI-compatible endpoint so flagged). */
export function servesResponses(endpoint: EndpointSpec): boolean {
  return endpoint.provider === "openai-compatible" && endpoint.capabilities?.includes("responses") === true;
}

/** The tiers of a chain limited to endpoints that serve `/v1/responses`; tiers left empty drop out. */
export function nativeChain(chain: TierRoute[]): TierRoute[] {
  return chain
    .map((tier) => ({ ...tier, endpoints: tier.endpoints.filter(servesResponses) }))
    .filter((tier) => tier.endpoints.length > 0);
}

/**
 * How the pool answers a Responses request: passed through to a native endpoint, or translated through
 * chat completions (`native: false` when the model has no native endpoint, `true` when it has but every
 * one failed, so the chat path's fallback takes over).
 */
export type ResponsesRoute =
  | { kind: "translate"; native: boolean; reason: string }
  | { kind: "passthrough"; decision: RouteDecision; served: Served; answer: PassedThrough };

/**
 * Routes a Responses request like its chat translation (same decision, capabilities and fallback
 * chain). When the chosen model's tier has endpoints serving `/v1/responses`, the body is passed through
 * to them (retries and fallback across those endpoints); otherwise it is left to the chat path.
 */
export async function routeResponses({
  router,
  request,
  chat,
  ctx,
}: {
  router: Router;
  request: ResponsesRequest;
  /** The request's chat translation: what routing decides on. */
  chat: ChatCompletionRequest;
  ctx: RoutingContext;
}): Promise<ResponsesRoute> {
  const { decision, primary } = await router.decide(chat, ctx);
  const { chain } = router.chainFor(chat, { primary, decision, stream: chat.stream === true }, ctx);
  const native = nativeChain(chain);
  if (native.length === 0 || native[0]?.name !== chain[0]?.name) {
    return { kind: "translate", native: false, reason: "no endpoint serves /v1/responses" };
  }
  const body = request as Record<string, unknown>;
  const outcome = await router.runChain(native, ctx, () => ({
    call: (endpoint, signal) => passThroughResponses({ endpoint, body, signal }),
    settled: (answer: PassedThrough) => (answer.kind === "stream" ? answer.outcome : Promise.resolve("ok")),
  }));
  if ("exhausted" in outcome) return { kind: "translate", native: true, reason: outcome.exhausted };
  return { kind: "passthrough", decision, served: outcome.served, answer: outcome.result };
}
