import { createMiddleware } from "hono/factory";
import { GatewayError } from "../../shared/errors.ts";
import { headers } from "../../shared/headers.ts";
import { inBackground } from "../lib/background.ts";
import type { HonoEnv } from "../types.ts";

/**
 * Per-key rate limit (after `requireApiKey`): 429 with Retry-After when over, and the X-RateLimit-*
 * headers on every answer. Fails open when Redis is down or slow (see RateLimiter).
 */
export const enforceRateLimit = createMiddleware<HonoEnv>(async (c, next) => {
  const services = c.get("services"),
    apiKey = c.get("apiKey");
  const perMinute = apiKey.rateLimitPerMinute ?? services.config.RATE_LIMIT_PER_MINUTE;
  const decision = await services.rateLimiter.check(apiKey.keyId, perMinute, apiKey.rateLimitMode ?? "fast");
  if (decision.pending) inBackground(c, "rate limit sync", decision.pending);
  const resetSeconds = Math.max(0, Math.ceil((decision.reset - Date.now()) / 1000));
  const limitHeaders = {
    [headers.rateLimitLimit]: String(decision.limit),
    [headers.rateLimitRemaining]: String(Math.max(0, decision.remaining)),
    [headers.rateLimitReset]: String(resetSeconds),
  };
  if (!decision.allowed) {
    throw new GatewayError("RATE_LIMITED", `Rate limit of ${decision.limit} requests per minute reached.`, {
      headers: { ...limitHeaders, "retry-after": String(Math.max(1, resetSeconds)) },
    });
  }
  await next();
  for (const [name, value] of Object.entries(limitHeaders)) c.res.headers.set(name, value);
});
