import { describe, expect, it } from "vitest";
import { decide, defaultRollbackPolicy, initialTierDriftState } from "../../../workers/drift/policy.ts";
import { type DriftResult, defaultDriftThresholds } from "../../../workers/drift/score.ts";
import { replayScenario } from "../../bench/drift-replay.ts";
import { changeKinds, defaultScenario, quietKinds } from "../../bench/drift-scenarios.ts";

const components = {
  embedding_psi: 0,
  prompt_length_psi: 0,
  task_mix_psi: 0,
  confidence_psi: 0,
  relevance_psi: 0,
  answer_length_psi: 0,
  fallback_rate_delta: 0,
};
const at = (score: number): DriftResult => ({ score, components, enoughRequests: true, accuracy: null });

function run(scores: number[], context = { hasPrevious: true, pinned: false }) {
  let state = initialTierDriftState;
  return scores.map((score) => {
    const decision = decide({
      state,
      result: at(score),
      tier: context,
      thresholds: defaultDriftThresholds,
      policy: defaultRollbackPolicy,
    });
    state = decision.state;
    return decision.action;
  });
}

describe("rollback policy", () => {
  it("rolls back after K consecutive breaching windows, then cools down", () => {
    expect(run([2, 2, 2, 2, 2, 2])).toEqual(["none", "none", "rollback", "none", "none", "cooling_down"]);
  });

  it("holds a streak inside the hysteresis band and clears it only below it", () => {
    expect(run([2, 2, 0.9, 2])).toEqual(["none", "none", "none", "rollback"]);
    expect(run([2, 2, 0.5, 2, 2])).toEqual(["none", "none", "none", "none", "none"]);
  });

  it("never rolls back without a previous version or while pinned", () => {
    expect(run([2, 2, 2], { hasPrevious: false, pinned: false }).at(-1)).toBe("blocked_no_previous");
    expect(run([2, 2, 2], { hasPrevious: true, pinned: true }).at(-1)).toBe("blocked_pinned");
  });

  it("ignores windows with too few requests and accuracy with too few labels", () => {
    let state = initialTierDriftState;
    for (let i = 0; i < 5; i++) {
      const decision = decide({
        state,
        result: { score: 9, components, enoughRequests: false, accuracy: null },
        tier: { hasPrevious: true, pinned: false },
        thresholds: defaultDriftThresholds,
        policy: defaultRollbackPolicy,
      });
      expect(decision.action).toBe("none");
      state = decision.state;
    }
  });
});

// CPU-bound replays: seconds each on a busy two-core machine, so the default 5 s is too tight.
describe("synthetic scenarios through score and policy", { timeout: 60_000 }, () => {
  const options = (kind: (typeof changeKinds)[number], seed: number) => ({ ...defaultScenario, kind, seed });

  it.each(quietKinds)("%s: no rollback", (kind) => {
    for (const seed of [11, 12, 13]) expect(replayScenario(options(kind, seed)).rollbacks).toEqual([]);
  });

  it.each(changeKinds)("%s: exactly one rollback, after the change", (kind) => {
    for (const seed of [21, 22]) {
      const { rollbacks } = replayScenario(options(kind, seed));
      expect(rollbacks).toHaveLength(1);
      expect(rollbacks[0]).toBeGreaterThanOrEqual(defaultScenario.changeAt);
    }
  });
});
