import type { ClickHouse } from "../../clickhouse/client.ts";
import type { Database } from "../../db/client.ts";
import { defaultRollbackPolicy } from "../../drift/policy.ts";
import type { WorkerEnv } from "../../pool/env.ts";
import type { RouteLearningDeps } from "./job.ts";

/**
 * The learning job's settings from the pool's config: the drift job's window, streak length and
 * cooldown (and its hysteresis), with routing's own target and bounds.
 */
export function routeLearningDeps(
  config: WorkerEnv,
  db: Database,
  clickhouse: ClickHouse,
): RouteLearningDeps {
  return {
    db,
    clickhouse,
    windowMs: config.DRIFT_WINDOW_MINUTES * 60_000,
    policy: {
      ...defaultRollbackPolicy,
      consecutiveWindows: config.DRIFT_CONSECUTIVE_WINDOWS,
      cooldownWindows: config.DRIFT_COOLDOWN_WINDOWS,
      target: config.ROUTE_LEARNING_TARGET,
      lowerMargin: config.ROUTE_LEARNING_LOWER_MARGIN,
      minRated: config.ROUTE_LEARNING_MIN_RATED,
      maxShift: config.ROUTE_LEARNING_MAX_RAISE,
      minShift: -config.ROUTE_LEARNING_MAX_LOWER,
      lowerWindows: config.ROUTE_LEARNING_LOWER_WINDOWS,
    },
  };
}
