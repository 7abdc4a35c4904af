import type { Logger } from "../../shared/logger.ts";
import type { PoolServices } from "./services.ts";

/** Hono's environment for a pool worker. */
export type PoolHonoEnv = {
  Variables: {
    requestId: string;
    services: PoolServices;
    rawBody: string;
    /** The call's logger, bound by verifySignature: every line carries `request_id` and `tenant`. */
    log: Logger;
  };
};
