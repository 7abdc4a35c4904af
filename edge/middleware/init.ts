import { createMiddleware } from "hono/factory";
import { GatewayError } from "../../shared/errors.ts";
import { type EdgeServices, servicesFor } from "../services/edge-services.ts";
import type { HonoEnv } from "../types.ts";

/**
 * Validates the config and puts the isolate's clients on `c.var.services`, and the configured logger,
 * bound to the request id (and the client's id), on `c.var.log`. A bad config is a 500 BAD_ENVIRONMENT.
 */
export const initServices = createMiddleware<HonoEnv>(async (c, next) => {
  const result = servicesFor(c.env ?? {});
  if (!result.ok) {
    c.get("log").error("bad environment", { problems: result.problems });
    throw new GatewayError("BAD_ENVIRONMENT", "The gateway is misconfigured; the operator has been told.");
  }
  c.set("services", result.services);
  const client = c.get("clientRequestId");
  c.set(
    "log",
    result.services.logger.child(
      client
        ? { request_id: c.get("requestId"), client_request_id: client }
        : { request_id: c.get("requestId") },
    ),
  );
  await next();
});

/** Puts services built by the caller (tests, embedders) on `c.var.services`; the bindings are not read. */
export function provideServices(services: EdgeServices) {
  return createMiddleware<HonoEnv>(async (c, next) => {
    c.set("services", services);
    await next();
  });
}
