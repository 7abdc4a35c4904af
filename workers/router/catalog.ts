import { GatewayError } from "../../shared/errors.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { messageText } from "../../shared/schemas/chat.ts";
import type { Capability, EndpointSpec } from "../providers/types.ts";
import type { CatalogModel, RoutingTable, TierRoute } from "../registry/types.ts";

/** The catalog model a name or alias means, if any. */
export function findCatalogModel(table: RoutingTable, name: string): CatalogModel | undefined {
  return table.models?.find((m) => m.name === name || m.aliases.includes(name) || m.version === name);
}

/** The capabilities a chat request needs: tools, image parts (vision), a json_schema response format. */
export function neededCapabilities(request: ChatCompletionRequest): Capability[] {
  const needs: Capability[] = [];
  if (request.tools && request.tools.length > 0 && request.tool_choice !== "none") needs.push("tools");
  const images = request.messages.some(
    (m) => Array.isArray(m.content) && m.content.some((p) => p.type === "image_url"),
  );
  if (images) needs.push("vision");
  if (request.response_format?.type === "json_schema") needs.push("json_schema");
  return needs;
}

/** A rough prompt size in tokens (4 characters a token) plus the output the client asked for. */
export function neededContext(request: ChatCompletionRequest): number {
  const chars = request.messages.reduce((sum, m) => sum + messageText(m).length, 0);
  return Math.ceil(chars / 4) + (request.max_completion_tokens ?? request.max_tokens ?? 0);
}

function endpointCan(endpoint: EndpointSpec, needs: Capability[], context: number): boolean {
  if (endpoint.contextWindow !== undefined && context > endpoint.contextWindow) return false;
  if (!endpoint.capabilities) return true;
  return needs.every((need) => endpoint.capabilities?.includes(need));
}

/**
 * The chain limited to endpoints that can serve the request: a model without tool support never gets a
 * request with tools, nor one too long for its context window. Tiers left with no endpoint drop out;
 * when none is left the request is a 400 naming what no model could do.
 */
export function capableChain(chain: TierRoute[], request: ChatCompletionRequest): TierRoute[] {
  const needs = neededCapabilities(request);
  const context = neededContext(request);
  const capable = chain
    .map((tier) => ({ ...tier, endpoints: tier.endpoints.filter((e) => endpointCan(e, needs, context)) }))
    .filter((tier) => tier.endpoints.length > 0);
  if (capable.length > 0 || chain.every((t) => t.endpoints.length === 0)) return capable;
  const what = needs.length > 0 ? `supports ${needs.join(", ")} with` : "has";
  throw new GatewayError(
    "BAD_REQUEST",
    `No model for '${request.model}' ${what} a context window of ${context} tokens.`,
    {
      param: needs.includes("tools") ? "tools" : "messages",
    },
  );
}

/** The route of an explicitly requested catalog model: the model, then its `auto` tier's chain. */
export function catalogChain(
  model: CatalogModel,
  tierChain: (tier: TierRoute) => TierRoute[],
  table: RoutingTable,
): TierRoute[] {
  const tier = model.autoTier ? table.tiers.find((t) => t.name === model.autoTier) : undefined;
  return tier ? [model, ...tierChain(tier).filter((t) => t.name !== model.name)] : [model];
}
