import { createMiddleware } from "hono/factory";
import { GatewayError } from "../../shared/errors.ts";
import { servicesFor } from "../services/edge-services.ts";
import type { HonoEnv } from "../types.ts";

/**
 * Validates the config and puts the isolate's clients on `c.var.services`, and the configured logger,
 * bound to the request id, on `c.var.log`. A bad config is a 500 BAD_ENVIRONMENT.
 */
export const initServices = createMiddleware<HonoEnv>(async (c, next) => {
  const result = servicesFor(c.env ?? {});
  if (!result.ok) {
    c.var.log.error("bad environment", { problems: result.problems });
    throw new GatewayError("BAD_ENVIRONMENT", "The gateway is misconfigured; the operator has been told.");
  }
  c.set("services", result.services);
  c.set("log", result.services.logger.child({ request_id: c.var.requestId }));
  await next();
});
