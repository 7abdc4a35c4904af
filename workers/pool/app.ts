import { Hono } from "hono";
import { GatewayError } from "../../shared/errors.ts";
import { createErrorHandler } from "../../shared/on-error.ts";
import { backpressure } from "./middleware/backpressure.ts";
import { requestMetrics } from "./middleware/metrics.ts";
import { poolRequestId } from "./middleware/request-id.ts";
import { verifySignature } from "./middleware/verify-signature.ts";
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

/** The pool worker's app: health probes in the open, everything else signed by the edge. */
export function createPoolApp(services: PoolServices): Hono<PoolHonoEnv> {
  const app = new Hono<PoolHonoEnv>();
  app.use(poolRequestId);
  app.use(async (c, next) => {
    c.set("services", services);
    await next();
  });
  app.use(requestMetrics());
  registerHealthRoutes(app);
  registerMetricsRoutes(app);
  registerDashboardRoutes(app);
  app.use("/internal/*", verifySignature(services.config.POOL_SIGNING_SECRET));
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
