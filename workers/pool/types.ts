import type { PoolServices } from "./services.ts";

/** Hono's environment for a pool worker. */
export type PoolHonoEnv = {
  Variables: {
    requestId: string;
    services: PoolServices;
    rawBody: string;
  };
};
