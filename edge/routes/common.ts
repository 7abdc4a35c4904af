import type { Context, MiddlewareHandler } from "hono";
import { GatewayError } from "../../shared/errors.ts";
import { errorResponses } from "../../shared/openapi.ts";
import { requireApiKey } from "../middleware/auth.ts";
import { jsonBody, limitBody } from "../middleware/json-body.ts";
import { enforceRateLimit } from "../middleware/rate-limit.ts";
import type { HonoEnv } from "../types.ts";

/** Throws 403 when the key is limited to other models. */
export function assertModelAllowed(c: Context<HonoEnv>, model: string): void {
  const allowed = c.get("apiKey").allowedModels;
  if (allowed && !allowed.includes(model)) {
    throw new GatewayError("MODEL_FORBIDDEN", `This API key may not use model '${model}'.`, {
      param: "model",
    });
  }
}

/**
 * What an API route runs before its handler, in this order: the body size cap (413, before reading),
 * the API key (401/403), the rate limit (429), then the JSON body (415/400). The route's zod schema
 * comes after all of them.
 */
export const bodyRouteMiddleware: MiddlewareHandler<HonoEnv>[] = [
  limitBody,
  requireApiKey,
  enforceRateLimit,
  jsonBody,
];

/** The errors every authenticated route with a JSON body can answer. */
export const bodyRouteErrors = errorResponses(400, 401, 403, 413, 415, 429);

/** What an authenticated route without a body runs before its handler: the API key, then the rate limit. */
export const keyRouteMiddleware: MiddlewareHandler<HonoEnv>[] = [requireApiKey, enforceRateLimit];

/** The security requirement of every authenticated route: `Authorization: Bearer <key>`. */
export const bearerSecurity = [{ bearer: [] }];
