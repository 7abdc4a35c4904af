import {
  type DriftAction,
  decide,
  defaultRollbackPolicy,
  initialTierDriftState,
  type RollbackPolicy,
} from "../../workers/drift/policy.ts";
import { type DriftThresholds, defaultDriftThresholds, driftScore } from "../../workers/drift/score.ts";
import { generateScenario, type ScenarioOptions } from "./drift-scenarios.ts";

export interface ReplayResult {
  actions: DriftAction[];
  scores: number[];
  breaches: boolean[];
  rollbacks: number[];
}

/**
 * Runs the drift job's decision over a scenario's windows. A rollback makes the previous version active,
 * after which there is no `previous` left (so a second rollback is impossible without a new promotion).
 */
export function replayScenario(
  options: ScenarioOptions,
  thresholds: DriftThresholds = defaultDriftThresholds,
  policy: RollbackPolicy = defaultRollbackPolicy,
): ReplayResult {
  const { reference, windows } = generateScenario(options);
  let state = initialTierDriftState;
  let hasPrevious = true;
  const result: ReplayResult = { actions: [], scores: [], breaches: [], rollbacks: [] };
  windows.forEach((window, index) => {
    const drift = driftScore(reference, window, thresholds);
    const decision = decide({
      state,
      result: drift,
      tier: { hasPrevious, pinned: false },
      thresholds,
      policy,
    });
    state = decision.state;
    if (decision.action === "rollback") {
      hasPrevious = false;
      result.rollbacks.push(index);
    }
    result.actions.push(decision.action);
    result.scores.push(drift.score);
    result.breaches.push(decision.breach);
  });
  return result;
}
