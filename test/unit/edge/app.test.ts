import { describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import { servicesFor } from "../../../edge/services/edge-services.ts";

const goodEnv = {
  UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
  UPSTASH_REDIS_REST_TOKEN: "t",
  POOL_REGIONS: "local=http://127.0.0.1:9",
  POOL_SIGNING_SECRET: "x".repeat(32),
};

describe("edge app (in-process)", () => {
  const app = createEdgeApp();

  it("answers 500 BAD_ENVIRONMENT in the OpenAI shape when the config is invalid", async () => {
    const response = await app.request(
      "/v1/chat/completions",
      { method: "POST", body: "{}" },
      { POOL_REGIONS: "nope" },
    );
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: "bad_environment", type: "server_error" });
    expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
  });

  it("answers with its own request id, echoes a caller's well-formed id apart, ignores a malformed one", async () => {
    const kept = await app.request("/health", { headers: { "x-request-id": "abc-123" } }, goodEnv);
    expect(kept.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    expect(kept.headers.get("x-client-request-id")).toBe("abc-123");
    const named = await app.request("/health", { headers: { "x-client-request-id": "cli:42" } }, goodEnv);
    expect(named.headers.get("x-client-request-id")).toBe("cli:42");
    const replaced = await app.request(
      "/v1/nothing",
      { headers: { "x-request-id": "bad id with spaces" } },
      goodEnv,
    );
    const body = (await replaced.json()) as { error: { request_id: string } };
    expect(body.error.request_id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(body.error.request_id).toBe(replaced.headers.get("x-request-id"));
    expect(replaced.headers.get("x-client-request-id")).toBeNull();
  });

  it("answers 401 before any I/O when the key is missing", async () => {
    const response = await app.request(
      "/v1/chat/completions",
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      goodEnv,
    );
    expect(response.status).toBe(401);
  });

  it("answers 413 for a body over the cap, before reading it", async () => {
    const response = await app.request(
      "/v1/chat/completions",
      { method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(2_000) },
      { ...goodEnv, MAX_BODY_BYTES: "1000" },
    );
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { code: string } };
    expect(body.error.code).toBe("payload_too_large");
  });

  it("answers unknown routes with 404 in the OpenAI shape", async () => {
    const response = await app.request("/v2/whatever", {}, goodEnv);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { type: string } };
    expect(body.error.type).toBe("invalid_request_error");
  });

  it("uses injected services and never reads the bindings then", async () => {
    const built = servicesFor(goodEnv);
    if (!built.ok) throw new Error(built.problems.join("; "));
    const injected = createEdgeApp(built.services);
    const response = await injected.request(
      "/v1/chat/completions",
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      { POOL_REGIONS: "nope" },
    );
    // The same bad bindings make the self-configuring app answer 500 BAD_ENVIRONMENT (above).
    expect(response.status).toBe(401);
  });
});
