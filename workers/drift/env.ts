import { z } from "zod";
import { nonNegativeInt, positiveInt } from "../../shared/env.ts";

/** Drift detection and automatic rollback settings of the pool, spread into workers/pool/env.ts. */
export const driftEnvShape = {
  /** Length of one drift window; the cron period should equal it (wrangler.toml: every 10 minutes). */
  DRIFT_WINDOW_MINUTES: positiveInt(10),
  /** Bun-side scheduler period for deployments without Workers cron; 0 (default) = off. */
  DRIFT_SCHEDULE_MS: nonNegativeInt(0),
  /** Rollback after this many consecutive breaching windows. */
  DRIFT_CONSECUTIVE_WINDOWS: positiveInt(3),
  /** Windows after a rollback during which the tier is not rolled back again. */
  DRIFT_COOLDOWN_WINDOWS: positiveInt(6),
  DRIFT_SCORE_THRESHOLD: z.coerce.number().positive().default(1),
  DRIFT_ACCURACY_FLOOR: z.coerce.number().min(0).max(1).default(0.75),
  DRIFT_MIN_REQUESTS: positiveInt(100),
  DRIFT_MIN_LABELLED: positiveInt(30),
  /** Optional URL that receives a JSON POST for every drift alert (bounded timeout; failures are logged). */
  DRIFT_WEBHOOK_URL: z.url().optional(),
  DRIFT_WEBHOOK_TIMEOUT_MS: positiveInt(2_000),
};
