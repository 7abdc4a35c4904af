import type { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { GatewayError } from "../../shared/errors.ts";
import { createErrorHandler } from "../../shared/on-error.ts";
import { createDocumentedApp, registerDocumentRoute } from "../../shared/openapi.ts";
import { backpressure } from "./middleware/backpressure.ts";
import { requestMetrics } from "./middleware/metrics.ts";
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
import { tags } from "./routes/shared.ts";
import type { PoolServices } from "./services.ts";
import type { PoolHonoEnv } from "./types.ts";

/**
 * Every route of the pool, on an app whose `/internal/*` calls are already checked: probes, metrics,
 * the dashboard and this document in the open; the rest signed by the edge.
 */
export function registerPoolRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "edgeSignature", {
    type: "apiKey",
    in: "header",
    name: "x-tiergate-signature",
    description:
      "HMAC-SHA256 (POOL_SIGNING_SECRET) over method, path, x-tiergate-timestamp, x-tiergate-nonce and " +
      "the body's sha256. Stale (±30 s), replayed or unsigned calls get 401.",
  });
  registerDocumentRoute(
    app,
    {
      title: "tiergate pool",
      version: "0.1.0",
      description:
        "A regional pool's HTTP API. Routes under /internal are for the edge only (signed); the `admin` ones " +
        "drive the model registry and the drift job. Probes, metrics and the dashboard are meant for the " +
        "pool's private network.",
    },
    tags.probes,
  );
  registerHealthRoutes(app);
  registerMetricsRoutes(app);
  registerDashboardRoutes(app);
  registerKeyRoutes(app);
  registerChatRoutes(app);
  registerEmbeddingsRoutes(app);
  registerModelRoutes(app);
  registerRegistryRoutes(app);
  registerAnswerRoutes(app);
  registerEventRoutes(app);
  registerDriftRoutes(app);
  registerFeedbackRoutes(app);
}

/** The pool worker's app: health probes in the open, everything else signed by the edge. */
export function createPoolApp(services: PoolServices): OpenAPIHono<PoolHonoEnv> {
  const app = createDocumentedApp<PoolHonoEnv>();
  app.use(requestId({ headerName: "x-request-id", limitLength: 128 }));
  app.use(async (c, next) => {
    c.set("services", services);
    await next();
  });
  app.use(requestMetrics());
  app.use("/internal/*", verifySignature(services.config.POOL_SIGNING_SECRET));
  app.use("/internal/*", backpressure(services.inFlight, services.config.MAX_IN_FLIGHT));
  registerPoolRoutes(app);
  app.notFound((c) => {
    throw new GatewayError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`);
  });
  app.onError(createErrorHandler<PoolHonoEnv>("pool"));
  return app;
}
