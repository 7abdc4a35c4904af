import { GatewayError } from "../../shared/errors.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { endpointFields } from "../providers/field-rules.ts";
import type { EndpointSpec } from "../providers/types.ts";
import type { TierRoute } from "../registry/types.ts";
import type { AttemptFailure } from "./attempts.ts";

/** An endpoint left out of a chain because its provider refuses a field of the request. */
export interface FieldSkip {
  endpoint: string;
  provider: string;
  field: string;
}

/** The chain limited to endpoints that honour every field, and what was left out. */
export interface HonouringChain {
  chain: TierRoute[];
  skipped: FieldSkip[];
}

/** The skips as fallback-reason hops, e.g. `gemini-0:refuses=logprobs`. */
export function describeSkips(skipped: readonly FieldSkip[]): string {
  return skipped.map((s) => `${s.endpoint}:refuses=${s.field}`).join(",");
}

/**
 * The 400 for a request no candidate endpoint can honour: `param` is the field the first candidate
 * refused; the message lists each provider that refused a field.
 */
export function noEndpointHonours(
  model: string,
  refusals: readonly Omit<FieldSkip, "endpoint">[],
): GatewayError {
  const first = refusals[0];
  const byField = new Map<string, Set<string>>();
  for (const r of refusals) byField.set(r.field, (byField.get(r.field) ?? new Set()).add(r.provider));
  const what = [...byField].map(
    ([field, providers]) => `'${field}' (refused by ${[...providers].join(", ")})`,
  );
  return new GatewayError(
    "BAD_REQUEST",
    `No endpoint for '${model}' can honour ${what.join(" and ")}. Remove the field or choose another model.`,
    { param: first?.field ?? "messages" },
  );
}

/**
 * Drops from the chain every endpoint whose provider refuses a field of the request (for a stream or a
 * whole answer), before any attempt, so no attempt is wasted; tiers left empty drop out. When the chain
 * had endpoints and none honours the request, it is a 400 naming the field ({@link noEndpointHonours}).
 */
export function honouringChain(
  chain: TierRoute[],
  request: ChatCompletionRequest,
  stream: boolean,
): HonouringChain {
  const skipped: FieldSkip[] = [];
  const keep = (endpoint: EndpointSpec) => {
    const [field] = endpointFields(endpoint, request, stream).refused;
    if (field === undefined) return true;
    skipped.push({ endpoint: endpoint.id, provider: endpoint.provider, field });
    return false;
  };
  const honouring = chain
    .map((tier) => ({ ...tier, endpoints: tier.endpoints.filter(keep) }))
    .filter((tier) => tier.endpoints.length > 0);
  if (honouring.length === 0 && skipped.length > 0) throw noEndpointHonours(request.model, skipped);
  return { chain: skipped.length === 0 ? chain : honouring, skipped };
}

/** The fields the serving endpoint dropped, for the `x-tiergate-dropped-fields` header. */
export function droppedFields(
  endpoint: EndpointSpec,
  request: ChatCompletionRequest,
  stream: boolean,
): string[] {
  return endpointFields(endpoint, request, stream).dropped;
}

/** What {@link servedWithFields} needs: the candidates, the request and whether it streams. */
export interface ServedFieldsContext extends HonouringChain {
  request: ChatCompletionRequest;
  stream: boolean;
}

/**
 * Who served, with the skipped endpoints put in front of the fallback reason and the fields the serving
 * endpoint dropped.
 */
export function servedWithFields<S extends { endpoint: string; fallbackReason: string }>(
  served: S,
  context: ServedFieldsContext,
): S & { droppedFields?: string[] } {
  const spec = context.chain.flatMap((t) => t.endpoints).find((e) => e.id === served.endpoint);
  const dropped = spec ? droppedFields(spec, context.request, context.stream) : [];
  const fallbackReason = [describeSkips(context.skipped), served.fallbackReason].filter(Boolean).join(">");
  return { ...served, fallbackReason, ...(dropped.length > 0 ? { droppedFields: dropped } : {}) };
}

/**
 * The safety net behind {@link honouringChain}: when every attempt of an exhausted chain was an
 * endpoint refusing a field, the request is a 400 naming it rather than an outage answer.
 */
export function throwIfAllRefused(
  model: string,
  candidates: HonouringChain,
  failures: readonly AttemptFailure[],
): void {
  if (failures.length === 0 || !failures.every((f) => f.refusal)) return;
  const refusals = failures.flatMap((f) => (f.refusal ? [f.refusal] : []));
  throw noEndpointHonours(model, [...candidates.skipped, ...refusals]);
}
