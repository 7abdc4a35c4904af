import { describe, expect, it } from "vitest";
import {
  breachReason,
  decide,
  defaultRollbackPolicy,
  initialTierDriftState,
} from "../../../workers/drift/policy.ts";
import {
  defaultDriftThresholds,
  driftScore,
  type TenantFeedback,
  tenantWeightedAccuracy,
  type WindowSample,
} from "../../../workers/drift/score.ts";

function window(requests: number, feedbackByTenant: TenantFeedback[]): WindowSample {
  return {
    embeddings: [],
    promptLengths: [],
    tasks: [],
    confidences: [],
    relevanceScores: [],
    answerLengths: [],
    requests,
    fallbacks: 0,
    labelled: feedbackByTenant.reduce((s, t) => s + t.labelled, 0),
    correct: feedbackByTenant.reduce((s, t) => s + t.correct, 0),
    feedbackByTenant,
  };
}

/** Runs the rollback state machine over `windows` identical windows; returns the last action. */
function actionAfter(sample: WindowSample, windows = 5): string {
  const reference = window(1_000, []);
  let state = initialTierDriftState;
  let action = "none";
  for (let i = 0; i < windows; i++) {
    const decision = decide({
      state,
      result: driftScore(reference, sample),
      tier: { hasPrevious: true, pinned: false },
      thresholds: defaultDriftThresholds,
      policy: defaultRollbackPolicy,
    });
    state = decision.state;
    if (decision.action !== "none") action = decision.action;
  }
  return action;
}

describe("tenant-weighted accuracy", () => {
  it("one tenant with 10% of a shared tier's traffic, all labels 'wrong', cannot roll it back", () => {
    const sample = window(1_000, [
      { tenant: "mallory", requests: 100, labelled: 100, correct: 0 },
      { tenant: "alice", requests: 900, labelled: 0, correct: 0 },
    ]);
    const result = driftScore(window(1_000, []), sample);
    expect(result.accuracy?.value).toBeCloseTo(0.9, 10);
    expect(breachReason(result, defaultDriftThresholds)).toBeNull();
    expect(actionAfter(sample)).toBe("none");
  });

  it("the same labels counted alike (no tenant split) would have rolled the tier back", () => {
    const { feedbackByTenant: _split, ...unsplit } = window(1_000, []);
    const pooled = { ...unsplit, labelled: 100, correct: 0 };
    expect(actionAfter(pooled)).toBe("rollback");
  });

  it("a tenant's influence is bounded by its share, whatever the label volume", () => {
    for (const share of [0.05, 0.2, 0.24]) {
      const requests = Math.round(1_000 * share);
      const value = tenantWeightedAccuracy([{ tenant: "m", requests, labelled: 10_000, correct: 0 }], 1_000);
      expect(1 - value).toBeCloseTo(share, 10);
    }
  });

  it("tenants that together carry the tier still roll it back on bad labels", () => {
    const sample = window(1_000, [
      { tenant: "a", requests: 500, labelled: 40, correct: 4 },
      { tenant: "b", requests: 500, labelled: 40, correct: 8 },
    ]);
    expect(driftScore(window(1_000, []), sample).accuracy?.value).toBeLessThan(0.75);
    expect(actionAfter(sample)).toBe("rollback");
  });

  it("a tier used by one tenant alone is judged by that tenant's labels", () => {
    const sample = window(1_000, [{ tenant: "solo", requests: 1_000, labelled: 50, correct: 10 }]);
    expect(actionAfter(sample)).toBe("rollback");
  });
});
