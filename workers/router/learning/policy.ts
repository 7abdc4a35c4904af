import { nextStreak, type RollbackPolicy } from "../../drift/policy.ts";

/**
 * How routing learns from a tenant's ratings per task class. The drift job's policy supplies the
 * streak length (K consecutive windows), the hysteresis and the cooldown; the rest is the target.
 */
export interface LearningPolicy extends RollbackPolicy {
  /** The share of well-rated answers a task class should get on its tier. */
  target: number;
  /** Ratings "hold well above" the target at target + margin: then a cheaper tier is tried. */
  lowerMargin: number;
  /** Windows with fewer rated answers than this neither grow nor clear a streak. */
  minRated: number;
  /** Bounds of the learned shift: at most this many tiers up, and this many down (as a negative). */
  maxShift: number;
  minShift: number;
  /** Consecutive well-rated windows before trying a cheaper tier (more than K: lowering risks quality). */
  lowerWindows: number;
}

export const defaultLearningPolicy: LearningPolicy = {
  consecutiveWindows: 3,
  hysteresis: 0.8,
  cooldownWindows: 6,
  target: 0.7,
  lowerMargin: 0.2,
  minRated: 10,
  maxShift: 2,
  minShift: -1,
  lowerWindows: 6,
};

/** The learning state of one tenant's task class between windows. */
export interface ClassState {
  shift: number;
  window: number;
  lowStreak: number;
  highStreak: number;
  cooldownUntil: number;
}

export const initialClassState: ClassState = {
  shift: 0,
  window: 0,
  lowStreak: 0,
  highStreak: 0,
  cooldownUntil: 0,
};

/** Rated answers of one window: how many were rated and how many of them well. */
export interface Ratings {
  rated: number;
  good: number;
}

export type LearningAction = "none" | "raise" | "lower" | "cooling_down" | "at_bound" | "too_few_ratings";

export interface LearningDecision {
  state: ClassState;
  action: LearningAction;
  reason: string;
}

/**
 * One window of the learning state machine. A window is low when the good share is under the target
 * and high when it reaches target + margin. A low streak clears only once the share is back above
 * target + (1 − hysteresis)·(1 − target); a high streak clears once it falls under target + margin ·
 * hysteresis. K low windows raise the class one tier, `lowerWindows` high ones lower it one, within
 * [minShift, maxShift], and never inside the cooldown that follows a change.
 */
export function stepClass(state: ClassState, ratings: Ratings, policy: LearningPolicy): LearningDecision {
  const window = state.window + 1;
  if (ratings.rated < policy.minRated) {
    return {
      state: { ...state, window },
      action: "too_few_ratings",
      reason: `${ratings.rated} rated < ${policy.minRated}`,
    };
  }
  const share = ratings.good / ratings.rated;
  const low = share < policy.target;
  const high = share >= policy.target + policy.lowerMargin;
  const lowCleared = share >= policy.target + (1 - policy.hysteresis) * (1 - policy.target);
  const highCleared = share < policy.target + policy.lowerMargin * policy.hysteresis;
  const next: ClassState = {
    ...state,
    window,
    lowStreak: nextStreak(state.lowStreak, low, lowCleared),
    highStreak: nextStreak(state.highStreak, high, highCleared),
  };
  const observed = `good ${share.toFixed(3)} of ${ratings.rated} rated (target ${policy.target})`;
  const wantsUp = next.lowStreak >= policy.consecutiveWindows;
  const wantsDown = next.highStreak >= policy.lowerWindows;
  if (!wantsUp && !wantsDown) return { state: next, action: "none", reason: observed };
  if (window <= state.cooldownUntil) return { state: next, action: "cooling_down", reason: observed };
  const delta = wantsUp ? 1 : -1;
  const shift = state.shift + delta;
  if (shift > policy.maxShift || shift < policy.minShift) {
    return { state: next, action: "at_bound", reason: `${observed}; shift ${state.shift} is at its bound` };
  }
  const streak = wantsUp ? policy.consecutiveWindows : policy.lowerWindows;
  return {
    state: { shift, window, lowStreak: 0, highStreak: 0, cooldownUntil: window + policy.cooldownWindows },
    action: wantsUp ? "raise" : "lower",
    reason: `${streak} consecutive ${wantsUp ? "low" : "high"} windows: ${observed}`,
  };
}
