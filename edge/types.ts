import type { AdminPrincipal } from "../shared/admin/rbac.ts";
import type { Logger } from "../shared/logger.ts";
import type { EdgeBindings } from "./env.ts";
import type { RequestTrace } from "./lib/tracing/span.ts";
import type { VerifiedKey } from "./services/api-keys.ts";
import type { EdgeServices } from "./services/edge-services.ts";
import type { GuardrailEventFields } from "./services/guardrails.ts";

/** Hono's environment for the edge app. */
export type HonoEnv = {
  Bindings: EdgeBindings;
  Variables: {
    /** The server's id of this request. */
    requestId: string;
    /** The client's own id of this request (`x-client-request-id` / `x-request-id`), when valid. */
    clientRequestId?: string;
    /** When the request reached the edge (epoch ms). */
    arrivedAt: number;
    services: EdgeServices;
    apiKey: VerifiedKey;
    /** The admin credential of an `/admin/v1` call (edge/routes/admin/auth.ts). */
    adminPrincipal: AdminPrincipal;
    /** This request's spans (set only when tracing is on; read it through `traceOf(c)`). */
    trace?: RequestTrace;
    /** This request's logger: every line carries `request_id`, and `tenant` once the key is verified. */
    log: Logger;
    /** What the guardrails and contract decided, for this request's event. */
    guardrailEvent?: GuardrailEventFields;
  };
};
