import type { OpenAPIHono } from "@hono/zod-openapi";
import { GatewayError } from "../../shared/errors.ts";
import { createErrorHandler } from "../../shared/on-error.ts";
import { createDocumentedApp, registerDocumentRoute } from "../../shared/openapi.ts";
import { traceSignedCall } from "../tracing/middleware.ts";
import { backpressure } from "./middleware/backpressure.ts";
import { requestMetrics } from "./middleware/metrics.ts";
import { poolRequestId } from "./middleware/request-id.ts";
import { authorizeCredential, verifySignature } from "./middleware/verify-signature.ts";
import { registerAdminRoutes } from "./routes/admin/register.ts";
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
import { registerResponsesRoutes } from "./routes/responses.ts";
import { registerResponseStoreRoutes } from "./routes/responses-store.ts";
import { registerRoutingRoutes } from "./routes/routing.ts";
import { tags } from "./routes/shared.ts";
import { registerSpendRoutes } from "./routes/spend.ts";
import type { PoolServices } from "./services.ts";
import type { PoolHonoEnv } from "./types.ts";

/** Admin operations: only an admin credential may call them; the traffic secret cannot. */
function isAdminPath(path: string): boolean {
  return (
    path === "/internal/v1/registry" ||
    path.startsWith("/internal/v1/registry/") ||
    path.startsWith("/internal/v1/drift/") ||
    path.startsWith("/internal/v1/routing/")
  );
}

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
      "HMAC-SHA256 over method, path, raw query, x-tiergate-timestamp, x-tiergate-nonce, the body's sha256 " +
      "and the headers named in SignedHeaders (tenant, key id, allowed models, deadline, request id, " +
      "traceparent). Traffic routes take the edge's signing secret; registry and drift routes an admin " +
      "credential (POOL_ADMIN_SECRETS). Stale (±30 s), replayed or unsigned calls get 401.",
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
  registerResponsesRoutes(app);
  registerResponseStoreRoutes(app);
  registerEmbeddingsRoutes(app);
  registerModelRoutes(app);
  registerRegistryRoutes(app);
  registerAnswerRoutes(app);
  registerEventRoutes(app);
  registerDriftRoutes(app);
  registerRoutingRoutes(app);
  registerFeedbackRoutes(app);
  registerAdminRoutes(app);
  registerSpendRoutes(app);
}

/**
 * The pool worker's app: health probes in the open, everything else signed — traffic by the edge's
 * signing secret, registry, drift and routing-learning operations by an admin credential.
 */
export function createPoolApp(services: PoolServices): OpenAPIHono<PoolHonoEnv> {
  const app = createDocumentedApp<PoolHonoEnv>();
  app.use(poolRequestId);
  app.use(async (c, next) => {
    c.set("services", services);
    await next();
  });
  app.use(requestMetrics());
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
  app.use("/internal/*", traceSignedCall);
  app.use("/internal/*", backpressure(services.inFlight, config.MAX_IN_FLIGHT));
  registerPoolRoutes(app);
  app.notFound((c) => {
    throw new GatewayError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`);
  });
  app.onError(createErrorHandler<PoolHonoEnv>("pool"));
  return app;
}
