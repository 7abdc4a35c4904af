import type { DriftResult, DriftThresholds } from "./score.ts";

/** When to roll a tier back. Defaults: 3 consecutive breaching windows, 20% hysteresis, 6-window cooldown. */
export interface RollbackPolicy {
  consecutiveWindows: number;
  /** A breach streak is cleared only once the score falls below threshold × hysteresis. */
  hysteresis: number;
  cooldownWindows: number;
}

export const defaultRollbackPolicy: RollbackPolicy = {
  consecutiveWindows: 3,
  hysteresis: 0.8,
  cooldownWindows: 6,
};

/** Per-tier memory of the job between windows (kept in Postgres by the job). */
export interface TierDriftState {
  window: number;
  breaches: number;
  cooldownUntil: number;
}

export const initialTierDriftState: TierDriftState = { window: 0, breaches: 0, cooldownUntil: 0 };

export type DriftAction = "none" | "rollback" | "blocked_no_previous" | "blocked_pinned" | "cooling_down";

export interface DriftDecision {
  state: TierDriftState;
  breach: boolean;
  action: DriftAction;
  reason: string;
}

/**
 * One window of a breach streak with hysteresis: a breaching window grows it, a window past the
 * recovery band clears it, and a window in between holds it, so a signal hovering at its threshold
 * cannot flap. Shared by the drift job and routing's feedback learning.
 */
export function nextStreak(streak: number, breach: boolean, recovered: boolean): number {
  if (breach) return streak + 1;
  return recovered ? 0 : streak;
}

/** Why this window breaches, or null. Too few requests never breaches; too few labels ignores accuracy. */
export function breachReason(result: DriftResult, thresholds: DriftThresholds): string | null {
  if (result.accuracy && result.accuracy.value < thresholds.accuracyFloor) {
    return `accuracy ${result.accuracy.value.toFixed(3)} < ${thresholds.accuracyFloor} (n=${result.accuracy.labelled})`;
  }
  if (result.enoughRequests && result.score > thresholds.scoreThreshold) {
    const [name, value] = Object.entries(result.components).sort((a, b) => b[1] - a[1])[0] ?? [
      "score",
      result.score,
    ];
    return `drift score ${result.score.toFixed(2)} > ${thresholds.scoreThreshold} (largest: ${name}=${value.toFixed(3)})`;
  }
  return null;
}

function recovered(result: DriftResult, thresholds: DriftThresholds, policy: RollbackPolicy): boolean {
  const accuracyOk = !result.accuracy || result.accuracy.value >= thresholds.accuracyFloor;
  return accuracyOk && result.score < thresholds.scoreThreshold * policy.hysteresis;
}

/** What {@link decide} judges: the tier's streak so far, this window's result, and the rules. */
export interface DecideInput {
  state: TierDriftState;
  result: DriftResult;
  /** Whether the tier has a version to roll back to, and whether it is pinned by hand. */
  tier: { hasPrevious: boolean; pinned: boolean };
  thresholds: DriftThresholds;
  policy: RollbackPolicy;
}

/**
 * One step of the rollback state machine: K consecutive breaching windows roll back, unless there is no
 * previous version, a manual pin is set, or the tier is cooling down after a rollback. Between the
 * hysteresis band and the threshold the streak is held, neither grown nor cleared, so it cannot flap.
 */
export function decide(input: DecideInput): DriftDecision {
  const { state, result, tier: context, thresholds, policy } = input;
  const window = state.window + 1;
  const reason = breachReason(result, thresholds);
  const breaches = nextStreak(
    state.breaches,
    reason !== null,
    reason === null && recovered(result, thresholds, policy),
  );
  const next: TierDriftState = { window, breaches, cooldownUntil: state.cooldownUntil };
  const breach = reason !== null;
  if (!breach || breaches < policy.consecutiveWindows) {
    return { state: next, breach, action: "none", reason: reason ?? "within thresholds" };
  }
  if (window <= state.cooldownUntil)
    return { state: next, breach, action: "cooling_down", reason: reason ?? "" };
  if (context.pinned) return { state: next, breach, action: "blocked_pinned", reason: reason ?? "" };
  if (!context.hasPrevious)
    return { state: next, breach, action: "blocked_no_previous", reason: reason ?? "" };
  return {
    state: { window, breaches: 0, cooldownUntil: window + policy.cooldownWindows },
    breach,
    action: "rollback",
    reason: `${policy.consecutiveWindows} consecutive windows: ${reason ?? ""}`,
  };
}
