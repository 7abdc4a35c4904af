import { Hono } from "hono";
import { GatewayError } from "../shared/errors.ts";
import { createErrorHandler } from "../shared/on-error.ts";
import { initServices } from "./middleware/init.ts";
import { recordRefusal } from "./middleware/refusal-events.ts";
import { requestIdAndCacheStatus } from "./middleware/request-id.ts";
import { registerAnswerRoutes } from "./routes/answer.ts";
import { registerChatRoutes } from "./routes/chat.ts";
import { registerEmbeddingsRoutes } from "./routes/embeddings.ts";
import { registerFeedbackRoutes } from "./routes/feedback.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerModelRoutes } from "./routes/models.ts";
import { registerOpenApiRoutes } from "./routes/openapi.ts";
import type { HonoEnv } from "./types.ts";

/** The edge app, the same for Workers and Deno. Entries only wire it to their runtime. */
export function createEdgeApp(): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  app.use(requestIdAndCacheStatus);
  registerHealthRoutes(app);
  registerOpenApiRoutes(app);
  app.use(initServices);
  registerChatRoutes(app);
  registerEmbeddingsRoutes(app);
  registerModelRoutes(app);
  registerAnswerRoutes(app);
  registerFeedbackRoutes(app);
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
