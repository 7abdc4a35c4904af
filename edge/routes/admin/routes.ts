import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { type AdminRouteSpec, adminPrefix, adminRoutes } from "../../../shared/admin/routes.ts";
import { errorResponses, jsonContent, plainResponses } from "../../../shared/openapi.ts";
import { jsonBody, limitBody } from "../../middleware/json-body.ts";
import type { HonoEnv } from "../../types.ts";
import { authorize, requireAdminKey } from "./auth.ts";
import { forwardAdmin } from "./forward.ts";

const documentSchema = z.record(z.string(), z.unknown());

/** Routes whose JSON body may be left out (every field has a default). */
const optionalBody = new Set(["keys.rotate"]);

/** `jsonBody`'s checks when a body was sent at all. */
const jsonBodyWhenSent = createMiddleware<HonoEnv>(async (c, next) => {
  if (c.req.header("content-type") === undefined && !c.req.header("content-length")) return next();
  return jsonBody(c, next);
});

function requestOf(spec: AdminRouteSpec): RouteConfig["request"] {
  return {
    ...(spec.params ? { params: spec.params } : {}),
    ...(spec.query ? { query: spec.query } : {}),
    ...(spec.body ? { body: { required: !optionalBody.has(spec.id), content: jsonContent(spec.body) } } : {}),
  };
}

/** The route's declaration (for the admin document and the handler). */
export function adminRouteConfig(spec: AdminRouteSpec) {
  return createRoute({
    method: spec.method,
    path: `${adminPrefix.edge}${spec.path}`,
    summary: spec.summary,
    description: `Allowed by the rule \`${spec.rule}\`.`,
    tags: [spec.id.split(".")[0] ?? "admin"],
    security: [{ adminBearer: [] }],
    request: requestOf(spec),
    responses: plainResponses({
      [spec.status ?? 200]: { description: "OK", content: jsonContent(spec.response) },
      ...errorResponses(400, 401, 403, 404, 503),
    }),
  });
}

function middlewareOf(spec: AdminRouteSpec): MiddlewareHandler<HonoEnv>[] {
  const body = spec.body ? [optionalBody.has(spec.id) ? jsonBodyWhenSent : jsonBody] : [];
  return [limitBody, requireAdminKey, authorize(spec.rule, spec.id), ...body];
}

function validatedBody(c: Context<HonoEnv>, spec: AdminRouteSpec): unknown {
  if (!spec.body) return undefined;
  return (c.req as unknown as { valid(target: "json"): unknown }).valid("json");
}

/**
 * `/admin/v1/*`: every route of the shared table, authenticated (admin credential), authorised by its
 * rule, validated, then forwarded signed to the pool, which checks the rule again and does the work.
 * Kept out of `/openapi.json`: the admin API has its own document.
 */
export function registerAdminRoutes(app: OpenAPIHono<HonoEnv>): void {
  for (const spec of adminRoutes) {
    const config = adminRouteConfig(spec);
    app.openapi({ ...config, middleware: middlewareOf(spec), hide: true }, (c) =>
      forwardAdmin(c, validatedBody(c, spec)),
    );
  }
}

/** GET /admin/v1/openapi.json: the admin API's own OpenAPI 3.1 document (public, no dependency). */
export function registerAdminDocument(app: OpenAPIHono<HonoEnv>): void {
  const documented = new OpenAPIHono();
  documented.openAPIRegistry.registerComponent("securitySchemes", "adminBearer", {
    type: "http",
    scheme: "bearer",
    description:
      "An admin credential (`tga_…`, created with `npm run keys -- admin create`). API keys get 401.",
  });
  for (const spec of adminRoutes) documented.openAPIRegistry.registerPath(adminRouteConfig(spec));
  let document: ReturnType<OpenAPIHono["getOpenAPI31Document"]> | undefined;
  const route = createRoute({
    method: "get",
    path: `${adminPrefix.edge}/openapi.json`,
    summary: "The admin API's OpenAPI document",
    hide: true,
    responses: { 200: { description: "OpenAPI 3.1", content: jsonContent(documentSchema) } },
  });
  app.openapi(route, (c) => {
    document ??= documented.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "tiergate admin",
        version: "0.1.0",
        description:
          "Tenants, API keys, the model registry, usage and the audit log. Every call takes an admin " +
          "credential with a role: admin (everything), tenant-admin (its own tenant), viewer (read-only; " +
          "global, or one tenant's). 401: no or bad credential; 403: the role may not.",
      },
    });
    return c.json(document, 200);
  });
}
