import { createMiddleware } from "hono/factory";
import { GatewayError } from "../../shared/errors.ts";
import { type EdgeServices, servicesFor } from "../services/edge-services.ts";
import type { HonoEnv } from "../types.ts";

/** Validates the config and puts the isolate's clients on `c.var.services`; a bad config is a 500 BAD_ENVIRONMENT. */
export const initServices = createMiddleware<HonoEnv>(async (c, next) => {
  const result = servicesFor(c.env ?? {});
  if (!result.ok) {
    console.error(`tiergate edge: bad environment: ${result.problems.join("; ")}`);
    throw new GatewayError("BAD_ENVIRONMENT", "The gateway is misconfigured; the operator has been told.");
  }
  c.set("services", result.services);
  await next();
});

/** Puts services built by the caller (tests, embedders) on `c.var.services`; the bindings are not read. */
export function provideServices(services: EdgeServices) {
  return createMiddleware<HonoEnv>(async (c, next) => {
    c.set("services", services);
    await next();
  });
}
