import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { GatewayError } from "../../shared/errors.ts";
import { createErrorHandler } from "../../shared/on-error.ts";
import { backpressure } from "./middleware/backpressure.ts";
import { requestMetrics } from "./middleware/metrics.ts";
import { authorizeCredential, verifySignature } from "./middleware/verify-signature.ts";
import { registerAnswerRoutes } from "./routes/answer.ts";
import { registerChatRoutes } from "./routes/chat.ts";
import { registerDashboardRoutes } from "./routes/dashboard.ts";
import { registerDriftRoutes } from "./routes/drift.ts";
import { registerEmbeddingsRoutes } from "./routes/embeddings.ts";
import { registerEventRoutes } from "./routes/events.ts";
import { registerFeedbackRoutes } from "./routes/feedback.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerKeyRoutes } from "./routes/keys.ts";
import { registerMetricsRoutes } from "./routes/metrics.ts";
import { registerModelRoutes } from "./routes/models.ts";
import { registerRegistryRoutes } from "./routes/registry.ts";
import type { PoolServices } from "./services.ts";
import type { PoolHonoEnv } from "./types.ts";

/** Admin operations: only an admin credential may call them; the traffic secret cannot. */
function isAdminPath(path: string): boolean {
  return (
    path === "/internal/v1/registry" ||
    path.startsWith("/internal/v1/registry/") ||
    path.startsWith("/internal/v1/drift/")
  );
}

/**
 * The pool worker's app: health probes in the open, everything else signed — traffic by the edge's
 * signing secret, registry and drift operations by an admin credential.
 */
export function createPoolApp(services: PoolServices): Hono<PoolHonoEnv> {
  const app = new Hono<PoolHonoEnv>();
  app.use(requestId({ headerName: "x-request-id", limitLength: 128 }));
  app.use(async (c, next) => {
    c.set("services", services);
    await next();
  });
  app.use(requestMetrics());
  registerHealthRoutes(app);
  registerMetricsRoutes(app);
  registerDashboardRoutes(app);
  const { config } = services;
  app.use(
    "/internal/*",
    verifySignature({
      trafficSecrets: [config.POOL_SIGNING_SECRET, config.POOL_SIGNING_SECRET_PREVIOUS].filter(
        (s): s is string => s !== undefined,
      ),
      adminSecrets: config.POOL_ADMIN_SECRETS,
      nonces: services.nonces,
      maxBodyBytes: config.MAX_BODY_BYTES,
    }),
  );
  app.use("/internal/*", authorizeCredential(isAdminPath));
  app.use("/internal/*", backpressure(services.inFlight, services.config.MAX_IN_FLIGHT));
  registerKeyRoutes(app);
  registerChatRoutes(app);
  registerEmbeddingsRoutes(app);
  registerModelRoutes(app);
  registerRegistryRoutes(app);
  registerAnswerRoutes(app);
  registerEventRoutes(app);
  registerDriftRoutes(app);
  registerFeedbackRoutes(app);
  app.notFound((c) => {
    throw new GatewayError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`);
  });
  app.onError(createErrorHandler<PoolHonoEnv>("pool"));
  return app;
}
