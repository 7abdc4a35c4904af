import { GatewayError } from "../../shared/errors.ts";
import { chatTiers, type RoutingTable, type TierRoute } from "../registry/types.ts";

/** A key's allowed models: null (or undefined) allows any. */
export type AllowedModels = readonly string[] | null | undefined;

/**
 * Whether a key may use a tier: the tier's name, its active version or one of its served models is in
 * the key's list. A listed `auto` lets the router choose, but only among the tiers listed beside it.
 */
export function tierAllowed(tier: TierRoute, allowed: AllowedModels): boolean {
  if (!allowed) return true;
  return (
    allowed.includes(tier.name) ||
    allowed.includes(tier.version) ||
    tier.endpoints.some((e) => allowed.includes(e.model))
  );
}

/** The routing table as a key sees it: only the tiers it may use (the whole table for any model). */
export function allowedView(table: RoutingTable, allowed: AllowedModels): RoutingTable {
  if (!allowed) return table;
  const models = table.models?.filter(
    (m) => tierAllowed(m, allowed) || m.aliases.some((a) => allowed.includes(a)),
  );
  return {
    ...table,
    tiers: table.tiers.filter((t) => tierAllowed(t, allowed)),
    ...(models ? { models } : {}),
  };
}

/** 403 in the OpenAI shape: the model exists but nothing this key may use can serve the request. */
export function modelForbidden(model: string): GatewayError {
  return new GatewayError(
    "MODEL_FORBIDDEN",
    `This API key may not use model '${model}' or any tier serving it.`,
    {
      param: "model",
    },
  );
}

/**
 * The tier RAG generation uses when the request names none: `large` when the key may use it, else the
 * most capable chat tier it may use; undefined when it may use none.
 */
export function generationTier(table: RoutingTable, allowed: AllowedModels): TierRoute | undefined {
  const tiers = chatTiers(allowedView(table, allowed));
  return tiers.find((t) => t.name === "large") ?? tiers.at(-1);
}
