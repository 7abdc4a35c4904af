import { GatewayError } from "../../shared/errors.ts";
import { findTier, type RoutingTable, type TierRoute, tierOfModel } from "../registry/types.ts";
import { modelForbidden } from "./allowed.ts";
import { findCatalogModel } from "./catalog.ts";
import type { RouteDecision } from "./policy.ts";

/** A resolved chat route: the first tier to try and why. */
export interface ResolvedRoute {
  decision: RouteDecision;
  primary: TierRoute;
}

function explicit(primary: TierRoute, how: { mode: "model" | "tier"; requested: string; reason: string }) {
  return {
    primary,
    decision: {
      mode: how.mode,
      requested: how.requested,
      tier: primary.name,
      escalated: false,
      reasons: [how.reason],
    },
  };
}

/**
 * A model named in the request (not `auto`), looked up in the key's view of the table: a catalog model,
 * a tier name, or a model a tier serves. Named in the full table but outside the view: 403; unknown:
 * 404 `model_not_found`.
 */
export function resolveNamedModel(options: {
  model: string;
  /** What the key may use. */
  table: RoutingTable;
  /** Everything the pool serves. */
  full: RoutingTable;
}): ResolvedRoute {
  const { model, table, full } = options;
  const named = findCatalogModel(table, model);
  if (named && named.kind === "chat")
    return explicit(named, { mode: "model", requested: model, reason: "catalog model" });
  if (findCatalogModel(full, model)) throw modelForbidden(model);
  const byTier = findTier(table, model);
  if (byTier && byTier.kind === "chat")
    return explicit(byTier, { mode: "tier", requested: model, reason: "explicit tier" });
  const byModel = tierOfModel(table, model);
  if (byModel && byModel.kind === "chat")
    return explicit(byModel, { mode: "model", requested: model, reason: "explicit model" });
  const exists = findTier(full, model) ?? tierOfModel(full, model);
  if (exists && exists.kind === "chat") throw modelForbidden(model);
  throw new GatewayError("MODEL_NOT_FOUND", `The model '${model}' does not exist.`, { param: "model" });
}

/**
 * The embeddings tier for `model` in the key's view: by tier name or version, by a served model,
 * `auto` for the first, or a catalog embeddings model. Outside the view: 403; unknown: 404.
 */
export function resolveEmbeddingsTier(options: {
  model: string;
  table: RoutingTable;
  full: RoutingTable;
}): TierRoute {
  const { model, table, full } = options;
  const embeddings = table.tiers.filter((t) => t.kind === "embeddings");
  const tier =
    embeddings.find((t) => t.name === model || t.version === model) ??
    embeddings.find((t) => t.endpoints.some((e) => e.model === model)) ??
    (model === "auto" ? embeddings[0] : undefined) ??
    [findCatalogModel(table, model)].find((m) => m?.kind === "embeddings");
  if (tier) return tier;
  if (table !== full && full.tiers.some((t) => t.kind === "embeddings")) throw modelForbidden(model);
  throw new GatewayError("MODEL_NOT_FOUND", `The embeddings model '${model}' does not exist.`, {
    param: "model",
  });
}
