import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "hono";
import { describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import { createDocumentedApp } from "../../../shared/openapi.ts";
import { registerPoolRoutes } from "../../../workers/pool/app.ts";
import type { PoolHonoEnv } from "../../../workers/pool/types.ts";

/** Any of the two apps (only its route table and its document are read). */
type App = Pick<OpenAPIHono<Env>, "routes" | "request">;

interface Document {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
}

/** Every method and path the app answers, from Hono's route table (middleware, registered as ALL, left out). */
function registeredRoutes(app: App): string[] {
  const routes = app.routes
    .filter((r) => r.method !== "ALL")
    .map((r) => `${r.method.toLowerCase()} ${r.path.replaceAll(/:([^/]+)/g, "{$1}")}`);
  return [...new Set(routes)].sort();
}

/** Every operation in the document, as `method path`. */
function documentedRoutes(doc: Document): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
    .sort();
}

async function servedDocument(app: App): Promise<Document> {
  const response = await app.request("/openapi.json");
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

function poolApp(): OpenAPIHono<PoolHonoEnv> {
  const app = createDocumentedApp<PoolHonoEnv>();
  registerPoolRoutes(app);
  return app;
}

describe("the generated OpenAPI documents cover every registered route", () => {
  it("edge: /openapi.json and /admin/v1/openapi.json together list each route the app answers", async () => {
    const app = createEdgeApp();
    const doc = await servedDocument(app);
    expect(doc.openapi).toBe("3.1.0");
    const adminResponse = await app.request("/admin/v1/openapi.json");
    expect(adminResponse.status).toBe(200);
    const adminDoc = (await adminResponse.json()) as Document;
    const registered = registeredRoutes(app);
    expect(registered).toContain("post /v1/feedback");
    expect(registered).toContain("post /admin/v1/tenants/{tenant}/keys/{key_id}/rotate");
    const publicRoutes = documentedRoutes(doc);
    const adminRoutes = documentedRoutes(adminDoc);
    // The admin API lives in its own document only.
    expect(publicRoutes.filter((r) => r.includes(" /admin/v1/"))).toEqual([]);
    expect([...publicRoutes, ...adminRoutes, "get /admin/v1/openapi.json"].sort()).toEqual(registered);
  });

  it("pool: its /openapi.json lists each route, the signed ones marked", async () => {
    const app = poolApp();
    const doc = await servedDocument(app);
    const registered = registeredRoutes(app);
    expect(registered).toEqual(
      expect.arrayContaining(["post /internal/v1/chat/completions", "get /metrics"]),
    );
    expect(documentedRoutes(doc)).toEqual(registered);
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const operation of Object.values(operations) as { security?: unknown[]; tags?: string[] }[]) {
        expect(operation.tags?.length, path).toBe(1);
        if (path.startsWith("/internal/")) {
          expect(operation.security, path).toEqual([{ edgeSignature: [] }]);
          expect(operation.tags?.[0], path).toMatch(/edge-signed/);
        }
      }
    }
  });

  it("a route registered without createRoute is caught", async () => {
    const app = createEdgeApp();
    app.get("/v1/undocumented", (c) => c.text("hidden"));
    const doc = await servedDocument(app);
    expect(registeredRoutes(app)).toContain("get /v1/undocumented");
    expect(documentedRoutes(doc)).not.toContain("get /v1/undocumented");
  });
});
