import type { PoolServices } from "./services.ts";

/** Hono's environment for a pool worker. */
export type PoolHonoEnv = {
  Variables: {
    /** The server's request id (the edge's, from the signed call; else made here). */
    requestId: string;
    /** The client's own request id, when the edge passed one on. */
    clientRequestId?: string;
    services: PoolServices;
    rawBody: string;
  };
};
