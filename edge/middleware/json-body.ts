import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { GatewayError } from "../../shared/errors.ts";
import { parseJsonBodyText } from "../../shared/json-limits.ts";
import type { HonoEnv } from "../types.ts";

const limiters = new Map<number, MiddlewareHandler>();

function limiterFor(maxSize: number): MiddlewareHandler {
  let limiter = limiters.get(maxSize);
  if (!limiter) {
    limiter = bodyLimit({
      maxSize,
      onError: () => {
        throw new GatewayError("PAYLOAD_TOO_LARGE", `Request body exceeds ${maxSize} bytes.`);
      },
    });
    limiters.set(maxSize, limiter);
  }
  return limiter;
}

/** Rejects a body over MAX_BODY_BYTES before it is read into memory or parsed. */
export const limitBody = createMiddleware<HonoEnv>((c, next) =>
  limiterFor(c.var.services.config.MAX_BODY_BYTES)(c, next),
);

/** Reads a JSON body: 415 for another content type, 400 for bad or too deeply nested JSON. */
export async function readJson(c: Context<HonoEnv>): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new GatewayError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json.");
  }
  return parseJsonBodyText(await c.req.text());
}
