import type { OpenAPIHono } from "@hono/zod-openapi";
import { GatewayError } from "../shared/errors.ts";
import { createErrorHandler } from "../shared/on-error.ts";
import { createDocumentedApp } from "../shared/openapi.ts";
import { admitRequests } from "./middleware/admission.ts";
import { initServices, provideServices } from "./middleware/init.ts";
import { recordRefusal } from "./middleware/refusal-events.ts";
import { requestIdAndCacheStatus } from "./middleware/request-id.ts";
import { traceRequests } from "./middleware/tracing.ts";
import { registerAdminDocument, registerAdminRoutes } from "./routes/admin/routes.ts";
import { registerAnswerRoutes } from "./routes/answer.ts";
import { registerChatRoutes } from "./routes/chat.ts";
import { registerEmbeddingsRoutes } from "./routes/embeddings.ts";
import { registerFeedbackRoutes } from "./routes/feedback.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerMessagesRoutes } from "./routes/messages.ts";
import { registerModelRoutes } from "./routes/models.ts";
import { registerOpenApiRoutes } from "./routes/openapi.ts";
import { registerResponsesRoutes } from "./routes/responses.ts";
import type { EdgeServices } from "./services/edge-services.ts";
import type { HonoEnv } from "./types.ts";

/**
 * The edge app, the same for Workers and Deno. Entries only wire it to their runtime. Without
 * `services` it builds them once per isolate from the bindings (a bad config answers 500
 * BAD_ENVIRONMENT); with them, every request uses those.
 */
export function createEdgeApp(services?: EdgeServices): OpenAPIHono<HonoEnv> {
  const app = createDocumentedApp<HonoEnv>();
  app.use(requestIdAndCacheStatus);
  registerHealthRoutes(app);
  registerOpenApiRoutes(app);
  registerAdminDocument(app);
  app.use(services ? provideServices(services) : initServices);
  app.use("/v1/*", admitRequests);
  app.use(traceRequests);
  registerChatRoutes(app);
  registerResponsesRoutes(app);
  registerMessagesRoutes(app);
  registerEmbeddingsRoutes(app);
  registerModelRoutes(app);
  registerAnswerRoutes(app);
  registerFeedbackRoutes(app);
  registerAdminRoutes(app);
  app.notFound((c) => {
    throw new GatewayError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`);
  });
  const errorResponse = createErrorHandler<HonoEnv>("edge");
  app.onError((error, c) => {
    const response = errorResponse(error, c);
    recordRefusal(c, response.status);
    return response;
  });
  return app;
}
