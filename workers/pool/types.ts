import type { Logger } from "../../shared/logger.ts";
import type { PoolServices } from "./services.ts";

/** Who made a signed call, from its verified signature and signed headers. */
export interface Caller {
  /** `traffic`: the edge's signing secret; `admin`: a named admin credential. */
  kind: "traffic" | "admin";
  /** The credential's name: `edge`, or the admin's (the audit actor). */
  credential: string;
  tenant: string | undefined;
  keyId: string | undefined;
  /** The key's allowed models; null means any. */
  allowedModels: string[] | null;
  /** The edge's absolute deadline (epoch ms). */
  deadline: number | undefined;
  traceparent: string | undefined;
}

/** Hono's environment for a pool worker. */
export type PoolHonoEnv = {
  Variables: {
    /** The server's request id (the edge's, from the signed call; else made here). */
    requestId: string;
    /** The client's own request id, when the edge passed one on. */
    clientRequestId?: string;
    services: PoolServices;
    rawBody: string;
    caller: Caller;
    /** The call's logger, bound by verifySignature: every line carries `request_id` and `tenant`. */
    log: Logger;
    /** The one tenant the dashboard shows to a tenant-bound admin credential (workers/admin/dashboard-scope.ts). */
    dashboardTenant?: string;
  };
};
