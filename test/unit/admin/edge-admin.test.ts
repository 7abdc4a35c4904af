import { describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import { randomSecret } from "../../../workers/admin/secrets.ts";
import { unitEnv } from "../edge/fake-pool.ts";

// The edge half of the admin API without a pool: credentials are refused before any call, and a pool
// that cannot be reached is a 503 in the OpenAI error shape, never a hang or a 500.

const app = createEdgeApp();
const deadPool = unitEnv("local=http://127.0.0.1:9");

async function call(path: string, token?: string) {
  const response = await app.request(
    path,
    { headers: token ? { authorization: `Bearer ${token}` } : {} },
    deadPool,
  );
  const body = (await response.json()) as { error?: { code: string; request_id: string } };
  return { status: response.status, body, requestId: response.headers.get("x-request-id") };
}

describe("the admin API at the edge", () => {
  it("401 without a credential, with an API key or with a malformed one", async () => {
    for (const token of [undefined, randomSecret("tg_"), "tga_short", "hello"]) {
      const answer = await call("/admin/v1/whoami", token);
      expect(answer.status, String(token)).toBe(401);
      expect(answer.body.error?.request_id).toBe(answer.requestId);
    }
    expect((await call("/admin/v1/whoami", randomSecret("tg_"))).body.error?.code).toBe("invalid_api_key");
  });

  it("503 upstream_unavailable when no pool answers the credential lookup", async () => {
    const answer = await call("/admin/v1/tenants", randomSecret("tga_"));
    expect(answer.status).toBe(503);
    expect(answer.body.error?.code).toBe("upstream_unavailable");
    expect(answer.body.error?.request_id).toBe(answer.requestId);
  });

  it("limits credential lookups per client IP (429), since each one is a Postgres query", async () => {
    const limited = unitEnv("local=http://127.0.0.1:9", { AUTH_LOOKUPS_PER_IP_PER_SECOND: "2" });
    const statuses: number[] = [];
    // Seven calls: however they fall across a second boundary, one second sees at least three.
    for (let i = 0; i < 7; i++) {
      const response = await app.request(
        "/admin/v1/whoami",
        { headers: { authorization: `Bearer ${randomSecret("tga_")}`, "cf-connecting-ip": "203.0.113.7" } },
        limited,
      );
      statuses.push(response.status);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 429 && s !== 503)).toEqual([]);
  });

  it("serves its own OpenAPI document with every admin route and the bearer scheme", async () => {
    const response = await app.request("/admin/v1/openapi.json", {}, deadPool);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(Object.keys(doc.paths)).toContain("/admin/v1/tenants/{tenant}/keys/{key_id}/rotate");
    expect(Object.keys(doc.paths).every((p) => p.startsWith("/admin/v1/"))).toBe(true);
    expect(Object.keys(doc.components.securitySchemes)).toEqual(["adminBearer"]);
  });
});
