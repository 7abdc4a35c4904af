import { describe, expect, it } from "vitest";
import {
  type ClassState,
  defaultLearningPolicy,
  initialClassState,
  type LearningAction,
  stepClass,
} from "../../../workers/router/learning/policy.ts";

const policy = defaultLearningPolicy;

/** Runs windows with these good shares (out of 20 rated); returns the actions and the last state. */
function run(shares: number[], start: ClassState = initialClassState) {
  let state = start;
  const actions: LearningAction[] = [];
  for (const share of shares) {
    const decision = stepClass(state, { rated: 20, good: Math.round(share * 20) }, policy);
    state = decision.state;
    actions.push(decision.action);
  }
  return { actions, state };
}

describe("route learning state machine", () => {
  it("raises a class after K consecutive low windows, then cools down", () => {
    const { actions, state } = run([0.3, 0.3, 0.3, 0.3, 0.3, 0.3]);
    expect(actions.indexOf("raise")).toBe(policy.consecutiveWindows - 1);
    expect(state.shift).toBe(1);
    expect(actions.slice(policy.consecutiveWindows)).toEqual(["none", "none", "cooling_down"]);
  });

  it("holds a low streak inside the hysteresis band and clears it above", () => {
    // 0.7 ≤ share < 0.76: neither low nor clear; a streak of 2 survives it and a third low window raises.
    expect(run([0.3, 0.3, 0.75, 0.3]).actions).toEqual(["none", "none", "none", "raise"]);
    expect(run([0.3, 0.3, 0.8, 0.3]).actions).toEqual(["none", "none", "none", "none"]);
  });

  it("does not move on ratings at or just above target, nor on too few ratings", () => {
    expect(run(Array(12).fill(0.8)).state.shift).toBe(0);
    const few = stepClass(initialClassState, { rated: policy.minRated - 1, good: 0 }, policy);
    expect(few).toMatchObject({ action: "too_few_ratings", state: { lowStreak: 0, window: 1 } });
  });

  it("lowers after lowerWindows high windows, never past its bounds", () => {
    const high = run(Array(policy.lowerWindows).fill(1));
    expect(high.actions.at(-1)).toBe("lower");
    expect(high.state.shift).toBe(-1);
    const atFloor = run(Array(policy.lowerWindows).fill(1), { ...initialClassState, shift: policy.minShift });
    expect(atFloor.actions.at(-1)).toBe("at_bound");
    const atTop = run([0.1, 0.1, 0.1], { ...initialClassState, shift: policy.maxShift });
    expect(atTop.actions.at(-1)).toBe("at_bound");
    expect(atTop.state.shift).toBe(policy.maxShift);
  });
});
