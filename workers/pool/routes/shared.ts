import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { RequestEvent } from "../../../shared/events.ts";
import { headers } from "../../../shared/headers.ts";
import { parseJsonBodyText } from "../../../shared/json-limits.ts";
import { errorResponses } from "../../../shared/openapi.ts";
import { guardrailFields } from "../../guardrails/event-fields.ts";
import { routedEvent } from "../../router/events.ts";
import type { RouteDecision } from "../../router/policy.ts";
import { formatDecision } from "../../router/policy.ts";
import type { RoutingContext, Served } from "../../router/router.ts";
import type { RequestOrigin } from "../services.ts";
import type { PoolHonoEnv } from "../types.ts";

/** Without an edge deadline a request gets this long overall. */
const defaultBudgetMs = 60_000;

/** The security requirement of the signed `/internal/*` routes: only the edge (or an operator with its key). */
export const signedSecurity = [{ edgeSignature: [] }];

/** OpenAPI tags that say who may call a route. */
export const tags = {
  /** Probes and metrics: open, for the host's network (no tenant data). */
  probes: ["probes"],
  /** Signed calls the edge makes on behalf of a client. */
  internal: ["internal (edge-signed)"],
  /** Signed operator actions: the model registry and the drift job. */
  admin: ["admin (edge-signed)"],
  /** The read-only dashboard (DASHBOARD_TOKEN or loopback). */
  dashboard: ["dashboard"],
};

/** The errors every signed route can answer. */
export const signedErrors = errorResponses(401, 503);

/** The errors every signed route with a JSON body can answer. */
export const signedBodyErrors = errorResponses(400, 401, 415, 503);

/**
 * Admits the signed body (read by `verifySignature`) to the route's schema: 400 when it is not JSON or
 * nests too deeply (checked on the raw text, before parsing). The route's validator then parses the
 * text Hono has kept.
 */
export const jsonBody = createMiddleware<PoolHonoEnv>(async (c, next) => {
  parseJsonBodyText(c.get("rawBody"));
  await next();
});

/** The request's routing context: its id, the edge's deadline (capped) and the client's abort signal. */
export function routingContext(c: Context<PoolHonoEnv>, arrivedAt: number): RoutingContext {
  const header = Number(c.req.header(headers.deadline));
  const deadline =
    Number.isFinite(header) && header > 0
      ? Math.min(header, arrivedAt + defaultBudgetMs)
      : arrivedAt + defaultBudgetMs;
  const tenant = c.req.header(headers.tenant);
  return {
    requestId: c.get("requestId"),
    deadline,
    signal: c.req.raw.signal,
    allowedModels: c.get("caller").allowedModels,
    ...(tenant ? { tenant } : {}),
  };
}

/** The routing headers every answer carries. */
export function setRoutingHeaders(c: Context<PoolHonoEnv>, served: Served, decision?: RouteDecision): void {
  c.header(headers.tier, served.tier);
  c.header(headers.provider, served.provider);
  c.header(headers.modelVersion, served.version);
  c.header(headers.route, decision ? formatDecision(decision, served.tier) : served.tier);
  c.header(headers.region, c.get("services").config.POOL_REGION);
  if (served.fallbackReason) c.header(headers.fallbackReason, served.fallbackReason.slice(0, 512));
  if (served.droppedFields?.length) c.header(headers.droppedFields, served.droppedFields.join(","));
}

/** Who asked: the request id, the tenant the edge vouched for, and the client's `user`. */
export function requestIdentity(c: Context<PoolHonoEnv>, userId: string | undefined) {
  return {
    requestId: c.get("requestId"),
    tenant: c.req.header(headers.tenant) ?? "unknown",
    userId: userId ?? "",
  };
}

/** Who sent the request, for its request row: the key (from the edge) and the client's own request id. */
export function requestOrigin(c: Context<PoolHonoEnv>): RequestOrigin {
  return { keyId: c.req.header(headers.keyId) ?? null, clientRequestId: c.get("clientRequestId") };
}

/** A request's one event: published to Kafka, and its request row queued for Postgres. */
export function recordEvent(c: Context<PoolHonoEnv>, event: RequestEvent): void {
  const origin = requestOrigin(c);
  const withGuardrails = { ...event, ...guardrailFields(c.req.header(headers.guardrailDecisions)) };
  const keyed = origin.keyId ? { ...withGuardrails, key_id: origin.keyId } : withGuardrails;
  const charged = keyed.cost_usd === undefined ? c.get("services").spend.charge(keyed, origin.keyId) : keyed;
  c.get("services").events.publish(charged);
  c.get("services").recordRequest(charged, origin);
}

/** A request that ends in an error still produces its one event (status and request ids, no tier). */
export function recordFailures(route: string) {
  return createMiddleware<PoolHonoEnv>(async (c, next) => {
    const arrivedAt = Date.now();
    await next();
    if (!c.error) return;
    const event = routedEvent({ ...requestIdentity(c, undefined), route, arrivedAt, status: c.res.status });
    recordEvent(c, event);
  });
}
