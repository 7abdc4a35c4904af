import { createMiddleware } from "hono/factory";
import { anthropicErrorOf } from "../../shared/formats/anthropic/from-chat.ts";
import { clientIp } from "../lib/client-ip.ts";
import type { HonoEnv } from "../types.ts";

/**
 * The API key of an Anthropic-style request: `x-api-key` (what `@anthropic-ai/sdk` sends) or
 * `Authorization: Bearer`. Sets `c.var.apiKey` like `requireApiKey`.
 */
export const requireAnthropicKey = createMiddleware<HonoEnv>(async (c, next) => {
  const xApiKey = c.req.header("x-api-key");
  const authorization = c.req.header("authorization") ?? (xApiKey ? `Bearer ${xApiKey}` : undefined);
  const key = await c.var.services.keys.verify(authorization, c.var.requestId, clientIp(c.req.raw));
  c.set("apiKey", key);
  c.set("log", c.var.log.child({ tenant: key.tenantId }));
  await next();
});

/**
 * Rewrites every error answer of the route below it (refused by a middleware, the schema or the
 * handler, answered by the one `onError`) into Anthropic's error shape, keeping status and headers.
 */
export const anthropicErrors = createMiddleware<HonoEnv>(async (c, next) => {
  await next();
  const response = c.res;
  if (response.status < 400 || !(response.headers.get("content-type") ?? "").includes("application/json"))
    return;
  const body: unknown = await response
    .clone()
    .json()
    .catch(() => null);
  if ((body as { type?: unknown } | null)?.type === "error") return;
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  c.res = new Response(JSON.stringify(anthropicErrorOf(response.status, body, c.var.requestId)), {
    status: response.status,
    headers,
  });
});
