import type { MiddlewareHandler } from "hono";
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
  limiterFor(c.get("services").config.MAX_BODY_BYTES)(c, next),
);

/**
 * Admits a JSON body to the route's schema: 415 for another content type, 400 `invalid_json` for bad
 * JSON or JSON nested too deeply. It reads the body through `limitBody`'s cap, so a chunked body over it is still a 413. The
 * route's validator then parses the text Hono has kept.
 */
export const jsonBody = createMiddleware<HonoEnv>(async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new GatewayError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json.");
  }
  // Depth is checked on the raw text before parsing: deeply nested JSON is a 400, never a stack overflow.
  parseJsonBodyText(await c.req.text());
  await next();
});
