import { sql } from "drizzle-orm";
import { GatewayError } from "../../shared/errors.ts";
import type { Database } from "../db/client.ts";
import { withPostgres } from "../db/client.ts";
import { type CatalogModelRow, catalogModels, registryAudit, registryTiers } from "../db/schema.ts";
import { type Capability, capabilities as knownCapabilities } from "../providers/types.ts";
import type { CatalogModel, TierRoute } from "./types.ts";

/** The registry tier kind of a catalog model's row (kept out of the tier list `auto` routes over). */
export const catalogKind = "model";

/** A new named model of the catalog (its endpoints come as versions, like a tier's). */
export interface NewCatalogModel {
  name: string;
  aliases: string[];
  autoTier: string | null;
  contextWindow: number;
  capabilities: Capability[];
  /** Per-attempt timeout; the auto tier's when omitted (30 s without one). */
  timeoutMs?: number;
}

/**
 * Where the spend module's per-version prices plug in: it resolves a catalog model's active version id
 * to its price per million input, output and cached tokens. The catalog itself stores no prices.
 */
export interface CatalogPriceHook {
  priceOf(
    versionId: string,
  ): { inputPerMillion: number; outputPerMillion: number; cachedPerMillion: number } | undefined;
}

/** Adds a named model: a registry tier row of kind `model` and its catalog row, audited. */
export async function addCatalogModel(db: Database, model: NewCatalogModel, actor: string): Promise<void> {
  const unknown = model.capabilities.find((c) => !knownCapabilities.includes(c));
  if (unknown)
    throw new GatewayError("BAD_REQUEST", `Unknown capability '${unknown}'.`, { param: "capabilities" });
  await withPostgres(() =>
    db.transaction(async (tx) => {
      const tiers = await tx.select().from(registryTiers);
      const auto = model.autoTier ? tiers.find((t) => t.name === model.autoTier) : undefined;
      if (model.autoTier && !auto) {
        throw new GatewayError("NOT_FOUND", `No tier '${model.autoTier}'.`, { param: "auto_tier" });
      }
      const taken = await tx
        .select({ name: catalogModels.name, aliases: catalogModels.aliases })
        .from(catalogModels);
      const names = new Set([...tiers.map((t) => t.name), ...taken.flatMap((t) => [t.name, ...t.aliases])]);
      const clash = [model.name, ...model.aliases].find((n) => names.has(n));
      if (clash)
        throw new GatewayError("BAD_REQUEST", `The name '${clash}' is already in use.`, { param: "name" });
      await tx.insert(registryTiers).values({
        name: model.name,
        rank: auto?.rank ?? 0,
        kind: catalogKind,
        tasks: [],
        budgetMs: auto?.budgetMs ?? 5_000,
        timeoutMs: model.timeoutMs ?? auto?.timeoutMs ?? 30_000,
      });
      await tx.insert(catalogModels).values({
        name: model.name,
        aliases: model.aliases,
        autoTier: model.autoTier,
        contextWindow: model.contextWindow,
        capabilities: model.capabilities,
      });
      await tx.insert(registryAudit).values({
        tier: model.name,
        action: "model",
        fromVersion: null,
        toVersion: null,
        actor,
        reason: `catalog model added (${model.capabilities.join(",") || "no capabilities"})`,
      });
    }),
  );
}

/** Every catalog row. */
export function catalogRows(db: Database): Promise<CatalogModelRow[]> {
  return withPostgres(() => db.select().from(catalogModels).orderBy(sql`${catalogModels.name}`));
}

/**
 * Splits the loaded routes into tiers and catalog models. Each model's endpoints carry its capabilities
 * and context window, and also serve its `auto` tier (appended to that tier's endpoints).
 */
export function withCatalog(
  routes: TierRoute[],
  rows: CatalogModelRow[],
): { tiers: TierRoute[]; models: CatalogModel[] } {
  const byName = new Map(rows.map((row) => [row.name, row]));
  const models: CatalogModel[] = [];
  for (const route of routes) {
    const row = byName.get(route.name);
    if (!row) continue;
    const caps = row.capabilities.filter((c): c is Capability => knownCapabilities.includes(c as Capability));
    models.push({
      ...route,
      kind: caps.includes("embeddings") ? "embeddings" : "chat",
      tasks: [],
      aliases: row.aliases,
      autoTier: row.autoTier,
      contextWindow: row.contextWindow,
      capabilities: caps,
      endpoints: route.endpoints.map((e) => ({ ...e, capabilities: caps, contextWindow: row.contextWindow })),
    });
  }
  const tiers = routes
    .filter((route) => !byName.has(route.name))
    .map((tier) => {
      const extra = models.filter((m) => m.autoTier === tier.name).flatMap((m) => m.endpoints);
      return extra.length > 0 ? { ...tier, endpoints: [...tier.endpoints, ...extra] } : tier;
    });
  return { tiers, models };
}
