import { createMiddleware } from "hono/factory";
import { headers } from "../../../shared/headers.ts";
import { isRequestId, newRequestId } from "../../../shared/request-id.ts";
import type { PoolHonoEnv } from "../types.ts";

/**
 * The request's id: the edge's (`x-request-id`, checked by the same validator the edge uses), else a
 * new one; and the client's own id when the edge passed one on. The id is echoed on every response.
 */
export const poolRequestId = createMiddleware<PoolHonoEnv>(async (c, next) => {
  const incoming = c.req.header(headers.requestId);
  const id = isRequestId(incoming) ? incoming : newRequestId();
  c.set("requestId", id);
  const client = c.req.header(headers.poolClientRequestId);
  if (isRequestId(client)) c.set("clientRequestId", client);
  await next();
  c.res.headers.set(headers.requestId, id);
});
