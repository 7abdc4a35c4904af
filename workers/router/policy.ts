import type { TaskType } from "../providers/types.ts";
import { chatTiers, type RoutingTable, type TierRoute } from "../registry/types.ts";
import type { Classification } from "./classifier.ts";

/** How a request was routed and why; goes into `x-tiergate-route` and the event. */
export interface RouteDecision {
  /** `auto`, a tier name, or a concrete model. */
  mode: "auto" | "tier" | "model";
  requested: string;
  tier: string;
  task?: TaskType;
  classification?: Classification;
  escalated: boolean;
  reasons: string[];
}

/** The cheapest chat tier that handles `task`, escalated one tier when confidence is under the threshold. */
export function chooseTier(
  table: RoutingTable,
  classification: Classification,
  confidenceThreshold: number,
): { tier: TierRoute; escalated: boolean; reasons: string[] } | undefined {
  const tiers = chatTiers(table);
  const index = tiers.findIndex((t) => t.tasks.includes(classification.task));
  if (index < 0) return undefined;
  const cheapest = tiers[index] as TierRoute;
  const reasons = [`cheapest for ${classification.task}: ${cheapest.name}`];
  if (classification.confidence < confidenceThreshold && index + 1 < tiers.length) {
    const next = tiers[index + 1] as TierRoute;
    reasons.push(
      `confidence ${classification.confidence.toFixed(2)} < ${confidenceThreshold}: escalate to ${next.name}`,
    );
    return { tier: next, escalated: true, reasons };
  }
  return { tier: cheapest, escalated: false, reasons };
}

/**
 * The tiers to try in order: the chosen one, then every more expensive chat tier that handles the task
 * (any more expensive tier when the task is unknown). `rules` comes after all of them.
 */
export function fallbackChain(
  table: RoutingTable,
  primary: TierRoute,
  task: TaskType | undefined,
): TierRoute[] {
  if (primary.kind !== "chat") return [primary];
  const higher = chatTiers(table).filter(
    (t) => t.rank > primary.rank && (task === undefined || t.tasks.includes(task)),
  );
  return [primary, ...higher];
}

/** The compact header form, e.g. `auto;task=extract;conf=0.50;by=heuristic;tier=large;escalated`. */
export function formatDecision(decision: RouteDecision, servedTier: string): string {
  const parts: string[] = [decision.mode];
  if (decision.mode !== "auto") parts.push(`requested=${decision.requested}`);
  const c = decision.classification;
  if (c) {
    parts.push(
      `task=${c.task}`,
      `difficulty=${c.difficulty}`,
      `conf=${c.confidence.toFixed(2)}`,
      `by=${c.decidedBy}`,
    );
    if (c.note) parts.push(`note=${c.note.replace(/[^\w.-]+/g, "_")}`);
  }
  parts.push(`tier=${decision.tier}`);
  if (decision.escalated) parts.push("escalated");
  if (servedTier !== decision.tier) parts.push(`served=${servedTier}`);
  return parts.join(";");
}
