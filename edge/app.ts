import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { GatewayError } from "../shared/errors.ts";
import { createErrorHandler } from "../shared/on-error.ts";
import { initServices } from "./middleware/init.ts";
import { registerChatRoutes } from "./routes/chat.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import type { HonoEnv } from "./types.ts";

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** The edge app, the same for Workers and Deno. Entries only wire it to their runtime. */
export function createEdgeApp(): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  app.use(
    requestId({
      headerName: "x-request-id",
      generator: () => `req_${crypto.randomUUID().replaceAll("-", "")}`,
      limitLength: 128,
    }),
  );
  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    if (incoming && !requestIdPattern.test(incoming))
      c.set("requestId", `req_${crypto.randomUUID().replaceAll("-", "")}`);
    await next();
  });
  registerHealthRoutes(app);
  app.use(initServices);
  registerChatRoutes(app);
  app.notFound((c) => {
    throw new GatewayError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`);
  });
  app.onError(createErrorHandler<HonoEnv>("edge"));
  return app;
}
