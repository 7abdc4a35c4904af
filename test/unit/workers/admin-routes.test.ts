import type { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createErrorHandler } from "../../../shared/on-error.ts";
import { createDocumentedApp } from "../../../shared/openapi.ts";
import { signedHeaders } from "../../../shared/signing.ts";
import { authorizeCredential, verifySignature } from "../../../workers/pool/middleware/verify-signature.ts";
import { MemoryNonceStore } from "../../../workers/pool/nonce-store.ts";
import { registerDriftRoutes } from "../../../workers/pool/routes/drift.ts";
import { registerRegistryRoutes } from "../../../workers/pool/routes/registry.ts";
import type { PoolServices } from "../../../workers/pool/services.ts";
import type { PoolHonoEnv } from "../../../workers/pool/types.ts";

const traffic = "t".repeat(40);
const admin = "a".repeat(40);

/** The pool's admin routes behind its real signature check, with a routing service that records calls. */
function makeApp() {
  const calls: unknown[][] = [];
  const routing = {
    promote: async (...args: unknown[]) => {
      calls.push(["promote", ...args]);
      return { tier: args[0], from: "v1", to: args[1] };
    },
    rollback: async (...args: unknown[]) => {
      calls.push(["rollback", ...args]);
      return { tier: args[0], from: "v2", to: "v1" };
    },
  };
  const app = createDocumentedApp<PoolHonoEnv>();
  app.use(async (c, next) => {
    c.set("services", { routing } as unknown as PoolServices);
    await next();
  });
  app.use(
    "/internal/*",
    verifySignature({
      trafficSecrets: [traffic],
      adminSecrets: new Map([["alice", admin]]),
      nonces: new MemoryNonceStore(),
      maxBodyBytes: 65_536,
    }),
  );
  app.use(
    "/internal/*",
    authorizeCredential((p) => p.startsWith("/internal/v1/registry") || p.startsWith("/internal/v1/drift/")),
  );
  registerRegistryRoutes(app);
  registerDriftRoutes(app);
  app.onError(createErrorHandler<PoolHonoEnv>("test"));
  return { app, calls };
}

async function post(app: Hono<PoolHonoEnv>, path: string, body: unknown, as: "admin" | "traffic") {
  const text = JSON.stringify(body);
  const headers = await signedHeaders(as === "admin" ? admin : traffic, {
    method: "POST",
    pathAndQuery: path,
    body: text,
    headers: {},
    ...(as === "admin" ? { credential: "alice" } : {}),
  });
  return app.request(path, {
    method: "POST",
    body: text,
    headers: { ...headers, "content-type": "application/json" },
  });
}

describe("admin operations", () => {
  it("promote and rollback take the audit actor from the admin credential, not the body", async () => {
    const { app, calls } = makeApp();
    const promoted = await post(
      app,
      "/internal/v1/registry/promote",
      { tier: "small", version: "v2", reason: "canary ok" },
      "admin",
    );
    expect(promoted.status).toBe(200);
    const rolled = await post(
      app,
      "/internal/v1/registry/rollback",
      { tier: "small", reason: "bad" },
      "admin",
    );
    expect(rolled.status).toBe(200);
    expect(calls).toEqual([
      ["promote", { tier: "small", version: "v2", actor: "admin:alice", reason: "canary ok" }],
      ["rollback", "small", "bad", "admin:alice"],
    ]);
    // A body that names its own actor is refused: the actor is not the caller's to choose.
    const claimed = await post(
      app,
      "/internal/v1/registry/promote",
      { tier: "small", version: "v2", reason: "x", actor: "someone-else" },
      "admin",
    );
    expect(claimed.status).toBe(400);
    expect(calls).toHaveLength(2);
  });

  it("the traffic signing secret cannot promote, roll back or run drift (403)", async () => {
    const { app, calls } = makeApp();
    for (const [path, body] of [
      ["/internal/v1/registry/promote", { tier: "small", version: "v2", reason: "x" }],
      ["/internal/v1/registry/rollback", { tier: "small", reason: "x" }],
      ["/internal/v1/drift/run", {}],
    ] as const) {
      const response = await post(app, path, body, "traffic");
      expect(response.status, path).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("admin_required");
    }
    expect(calls).toEqual([]);
  });

  it("a drift run's now must be within a day of the server's clock (400 with param now)", async () => {
    const { app } = makeApp();
    for (const now of [Date.now() - 2 * 86_400_000, Date.now() + 2 * 86_400_000, 1]) {
      const response = await post(app, "/internal/v1/drift/run", { now }, "admin");
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { param: string } }).error.param).toBe("now");
    }
  });
});
