import type { Capability, EndpointSpec, TaskType } from "../providers/types.ts";

export type TierKind = "chat" | "embeddings";
export type VersionStatus = "active" | "previous" | "candidate" | "retired";

/** One tier as the router sees it: its budget, timeout, the tasks it handles and its active version. */
export interface TierRoute {
  name: string;
  /** Cost order: lower is cheaper. Fallback goes up in rank. */
  rank: number;
  kind: TierKind;
  tasks: TaskType[];
  /** The latency the tier is meant to answer in (by default small 50, medium 200, large 5000 ms). */
  budgetMs: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
  versionId: string;
  /** The active version's name, reported in `x-tiergate-model-version` and the event. */
  version: string;
  endpoints: EndpointSpec[];
}

/**
 * A named model of the catalog: versioned like a tier (its active version's endpoints, any provider),
 * requested by name or alias. With `autoTier` set, its endpoints also serve that tier for `auto`.
 */
export interface CatalogModel extends TierRoute {
  aliases: string[];
  autoTier: string | null;
  contextWindow: number;
  capabilities: Capability[];
}

/** The routing table a worker routes with; replaced as a whole when the registry changes. */
export interface RoutingTable {
  source: "postgres" | "env";
  tiers: TierRoute[];
  /** The catalog's named models (absent: none). */
  models?: CatalogModel[];
}

/** Chat tiers in cost order. */
export function chatTiers(table: RoutingTable): TierRoute[] {
  return table.tiers.filter((t) => t.kind === "chat").sort((a, b) => a.rank - b.rank);
}

export function findTier(table: RoutingTable, name: string): TierRoute | undefined {
  return table.tiers.find((t) => t.name === name);
}

/** A concrete model name (a version name or a served model name) → the tier serving it. */
export function tierOfModel(table: RoutingTable, model: string): TierRoute | undefined {
  return (
    table.tiers.find((t) => t.version === model) ??
    table.tiers.find((t) => t.endpoints.some((e) => e.model === model))
  );
}

/** Default tier shapes; budgets come from TIER_BUDGETS_MS, and config or the registry override the rest. */
export const defaultTiers: { name: string; rank: number; kind: TierKind; tasks: TaskType[] }[] = [
  { name: "small", rank: 1, kind: "chat", tasks: ["classify"] },
  { name: "medium", rank: 2, kind: "chat", tasks: ["classify", "extract", "chat"] },
  { name: "large", rank: 3, kind: "chat", tasks: ["classify", "extract", "chat", "generate"] },
  { name: "embed", rank: 0, kind: "embeddings", tasks: [] },
];
