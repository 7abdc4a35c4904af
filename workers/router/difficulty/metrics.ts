import { type Level, type LevelSuccess, levels } from "./model.ts";

/**
 * Relative price of one request per level, until the registry carries prices. The ratios follow
 * public per-token list prices of the model classes the tiers stand for (an 8B-class open model, a
 * 70B-class open model, a frontier model): roughly 1 : 6 : 30. Every request counts the same.
 */
export const relativeLevelPrices: Record<Level, number> = { small: 1, medium: 6, large: 30 };

/** The cheapest level whose predicted success reaches `target` (large always does). */
export function levelFor(success: LevelSuccess, target: number): Level {
  return levels.find((level) => success[level] >= target) ?? "large";
}

/** Routing quality of a set of decisions against their labels. */
export interface RoutingScore {
  n: number;
  accuracy: number;
  /** Share sent below its label (a quality risk). */
  underRouting: number;
  /** Share sent above its label (wasted cost). */
  overRouting: number;
  /** Cost relative to sending everything to large. */
  relativeCost: number;
  /** Cost of perfect routing relative to always-large (the floor). */
  oracleCost: number;
  largeShare: number;
}

/** Scores routed levels against labels. */
export function scoreRouting(decisions: readonly { label: Level; routed: Level }[]): RoutingScore {
  const n = decisions.length;
  const rank = (level: Level) => levels.indexOf(level);
  let correct = 0;
  let under = 0;
  let over = 0;
  let cost = 0;
  let oracle = 0;
  let large = 0;
  for (const { label, routed } of decisions) {
    if (routed === label) correct++;
    else if (rank(routed) < rank(label)) under++;
    else over++;
    cost += relativeLevelPrices[routed];
    oracle += relativeLevelPrices[label];
    if (routed === "large") large++;
  }
  const all = n * relativeLevelPrices.large;
  const share = (k: number) => (n === 0 ? 0 : k / n);
  return {
    n,
    accuracy: share(correct),
    underRouting: share(under),
    overRouting: share(over),
    relativeCost: all === 0 ? 0 : cost / all,
    oracleCost: all === 0 ? 0 : oracle / all,
    largeShare: share(large),
  };
}

/** Targets on the success-probability knob, from cheap to safe. */
export const targetGrid = Array.from({ length: 19 }, (_, i) => Number((0.05 + i * 0.05).toFixed(2)));
