import { z } from "zod";
import { positiveInt } from "../../shared/env.ts";

/** The spend part of the pool configuration (spread into workers/pool/env.ts). */
export const spendEnvShape = {
  /** Soft budgets without their own webhook call this one when passed (unset: the alert row only). */
  BUDGET_WEBHOOK_URL: z.url().optional(),
  /** A budget webhook call gives up after this long (its alert row keeps status 0). */
  BUDGET_WEBHOOK_TIMEOUT_MS: positiveInt(5_000),
  /** How often a worker re-reads the price history (ms). */
  PRICE_REFRESH_MS: positiveInt(5_000),
};
