import type { Logger } from "../../shared/logger.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import type { Database } from "../db/client.ts";
import type { WorkerEnv } from "../pool/env.ts";
import type { RoutingService } from "../registry/routing.ts";
import type { DriftJobDeps } from "./job.ts";
import { defaultRollbackPolicy } from "./policy.ts";
import { defaultDriftThresholds } from "./score.ts";

/** What {@link driftJobDeps} builds the job's dependencies from. */
export interface DriftJobSources {
  /** The pool's validated config: the drift settings are read from it. */
  config: WorkerEnv;
  db: Database;
  clickhouse: ClickHouse;
  routing: Pick<RoutingService, "rollback">;
  logger: Logger;
}

/** The drift job's dependencies and settings from the pool's validated config. */
export function driftJobDeps({ config, db, clickhouse, routing, logger }: DriftJobSources): DriftJobDeps {
  return {
    db,
    clickhouse,
    logger,
    rollback: (tier, reason, actor) => routing.rollback(tier, reason, actor),
    thresholds: {
      ...defaultDriftThresholds,
      scoreThreshold: config.DRIFT_SCORE_THRESHOLD,
      accuracyFloor: config.DRIFT_ACCURACY_FLOOR,
      minRequests: config.DRIFT_MIN_REQUESTS,
      minLabelled: config.DRIFT_MIN_LABELLED,
    },
    policy: {
      ...defaultRollbackPolicy,
      consecutiveWindows: config.DRIFT_CONSECUTIVE_WINDOWS,
      cooldownWindows: config.DRIFT_COOLDOWN_WINDOWS,
    },
    windowMs: config.DRIFT_WINDOW_MINUTES * 60_000,
    webhookUrl: config.DRIFT_WEBHOOK_URL,
    webhookTimeoutMs: config.DRIFT_WEBHOOK_TIMEOUT_MS,
  };
}
