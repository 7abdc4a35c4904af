import type { TaskType } from "../providers/types.ts";
import { chatTiers, type RoutingTable, type TierRoute } from "../registry/types.ts";
import type { Classification } from "./classifier.ts";
import { type Level, type LevelSuccess, levels } from "./difficulty/model.ts";

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
  /** Difficulty routing: the success probability the chosen tier had to reach. */
  target?: number;
  /** Difficulty routing: tiers moved by what the tenant's feedback taught (0 or absent: none). */
  shift?: number;
}

/** The knob and the learned shift of one difficulty-routed request. */
export interface DifficultyChoice {
  /** The success probability a tier must reach (the cost/quality knob: higher is safer and dearer). */
  target: number;
  /** Tiers to move the choice by (from per-tenant feedback), bounded by the cheapest and dearest tiers. */
  shift?: number;
}

/** The level a chat tier stands for: by name when it is one, else by its place in the cost order. */
function levelOf(tier: TierRoute, index: number, count: number): Level {
  if ((levels as readonly string[]).includes(tier.name)) return tier.name as Level;
  if (count <= 1) return "large";
  return levels[Math.round((index * (levels.length - 1)) / (count - 1))] ?? "large";
}

/**
 * The cheapest chat tier expected to succeed: the first in cost order whose predicted success reaches
 * the target (the dearest tier when none does), then moved by the tenant's learned shift. Task lists do
 * not limit the choice: the prediction already says what a tier can do.
 */
export function chooseTier(
  table: RoutingTable,
  success: LevelSuccess,
  choice: DifficultyChoice,
): { tier: TierRoute; escalated: boolean; reasons: string[] } | undefined {
  const tiers = chatTiers(table);
  if (tiers.length === 0) return undefined;
  const found = tiers.findIndex((t, i) => success[levelOf(t, i, tiers.length)] >= choice.target);
  const base = found < 0 ? tiers.length - 1 : found;
  const baseTier = tiers[base] as TierRoute;
  const reasons = [
    found < 0
      ? `no tier reaches p>=${choice.target}: ${baseTier.name}`
      : `cheapest with p>=${choice.target}: ${baseTier.name}`,
  ];
  const shift = choice.shift ?? 0;
  const index = Math.min(tiers.length - 1, Math.max(0, base + shift));
  const tier = tiers[index] as TierRoute;
  if (index !== base) reasons.push(`tenant feedback shift ${shift > 0 ? "+" : ""}${shift}: ${tier.name}`);
  return { tier, escalated: index > base, reasons };
}

/** The cheapest chat tier that handles `task`, escalated one tier when confidence is under the threshold. */
export function chooseTierByTask(
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

/**
 * The compact header form, e.g. `auto;task=extract;conf=0.50;by=heuristic;tier=large;escalated`, or for
 * the learned classifier `auto;task=generate;…;by=learned;class=code;p=0.12/0.71/1.00;target=0.75;
 * feedback=+1;tier=large;escalated` (p = predicted success of small/medium/large).
 */
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
    if (c.category) parts.push(`class=${c.category}`);
    if (c.success) {
      const s = c.success;
      parts.push(`p=${s.small.toFixed(2)}/${s.medium.toFixed(2)}/${s.large.toFixed(2)}`);
    }
  }
  if (decision.target !== undefined) parts.push(`target=${decision.target}`);
  if (decision.shift) parts.push(`feedback=${decision.shift > 0 ? "+" : ""}${decision.shift}`);
  parts.push(`tier=${decision.tier}`);
  if (decision.escalated) parts.push("escalated");
  if (servedTier !== decision.tier) parts.push(`served=${servedTier}`);
  return parts.join(";");
}
