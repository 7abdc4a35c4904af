import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { Env } from "hono";
import { validationHook } from "./validation.ts";

/**
 * An app whose routes document themselves (`createRoute`). Its one `defaultHook` turns a request that
 * fails a route's zod schemas into the gateway's 400 with `param`, the shape `parseOrThrow` gives.
 */
export function createDocumentedApp<E extends Env>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({ defaultHook: validationHook });
}

/** OpenAI's error body plus the request id (shared/errors.ts `ErrorBody`). */
export const errorBodySchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      code: z.string(),
      param: z.string().nullable(),
      request_id: z.string(),
    }),
  })
  .openapi("Error");

/** A JSON body of `schema`, as a request or response `content`. */
export function jsonContent<S extends z.ZodType>(schema: S) {
  return { "application/json": { schema } };
}

const errorDescriptions = {
  400: "Invalid request (`param` names the field) or invalid JSON",
  401: "Missing, unknown or badly signed credentials",
  403: "Revoked key or forbidden model",
  404: "Not found",
  413: "Body over the size cap",
  415: "Content-Type is not application/json",
  429: "Rate limited (Retry-After, x-ratelimit-*)",
  503: "A dependency or every pool is unavailable (Retry-After)",
} as const;

/** The error statuses a route can document. */
export type ErrorStatusCode = keyof typeof errorDescriptions;

/** The documented error answers of a route, each in the OpenAI error shape. */
export function errorResponses<const S extends ErrorStatusCode>(...statuses: S[]) {
  const out = {} as Record<
    S,
    { description: string; content: ReturnType<typeof jsonContent<typeof errorBodySchema>> }
  >;
  for (const status of statuses) {
    out[status] = { description: errorDescriptions[status], content: jsonContent(errorBodySchema) };
  }
  return out;
}

/**
 * Documented answers of a route whose handler returns a plain Response (a pool's JSON passed on byte for
 * byte after checking it, a stream) rather than one typed by these declarations.
 */
export function plainResponses(responses: RouteConfig["responses"]): RouteConfig["responses"] {
  return responses;
}

/** A text body (HTML, JavaScript, Prometheus text) as a response `content`. */
export function textContent<const M extends string>(mediaType: M) {
  return { [mediaType]: { schema: z.string() } } as Record<M, { schema: z.ZodString }>;
}

/** What the document says about the app as a whole. */
export type DocumentInfo = Parameters<OpenAPIHono["getOpenAPI31Document"]>[0]["info"];

/**
 * GET /openapi.json: the OpenAPI 3.1 document generated from the app's `createRoute` declarations (their
 * zod schemas). Built once, at the first request, when every route has been registered.
 */
export function registerDocumentRoute<E extends Env>(
  app: OpenAPIHono<E>,
  info: DocumentInfo,
  tags?: string[],
): void {
  const documentRoute = createRoute({
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    tags,
    responses: {
      200: { description: "OpenAPI 3.1", content: jsonContent(z.record(z.string(), z.unknown())) },
    },
  });
  let document: ReturnType<OpenAPIHono<E>["getOpenAPI31Document"]> | undefined;
  app.openapi(documentRoute, (c) => {
    document ??= app.getOpenAPI31Document({ openapi: "3.1.0", info });
    return c.json(document, 200);
  });
}
