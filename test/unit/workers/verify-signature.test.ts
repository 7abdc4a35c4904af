import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { describe, expect, it, vi } from "vitest";
import { createErrorHandler } from "../../../shared/on-error.ts";
import { randomNonce, sha256Hex, sign } from "../../../shared/signing.ts";
import { verifySignature } from "../../../workers/pool/middleware/verify-signature.ts";
import type { PoolHonoEnv } from "../../../workers/pool/types.ts";

const secret = "s".repeat(40);

function makeApp() {
  const app = new Hono<PoolHonoEnv>();
  app.use(verifySignature(secret));
  app.post("/internal/echo", (c) => c.text(c.var.rawBody));
  app.onError(createErrorHandler<PoolHonoEnv>("test"));
  return app;
}

async function signedHeaders(
  body: string,
  overrides: { timestamp?: number; nonce?: string; path?: string } = {},
) {
  const timestamp = overrides.timestamp ?? Date.now();
  const nonce = overrides.nonce ?? randomNonce();
  const signature = await sign(secret, {
    method: "POST",
    path: overrides.path ?? "/internal/echo",
    timestamp,
    nonce,
    bodySha256: await sha256Hex(body),
  });
  return {
    "x-tiergate-signature": signature,
    "x-tiergate-timestamp": String(timestamp),
    "x-tiergate-nonce": nonce,
  };
}

describe("pool signature check", () => {
  it("binds the call's request id and signed tenant to c.var.log", async () => {
    const app = new Hono<PoolHonoEnv>();
    app.use(requestId({ headerName: "x-request-id" }));
    app.use(verifySignature(secret));
    app.post("/internal/echo", (c) => {
      c.var.log.info("handled");
      return c.text("ok");
    });
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    try {
      const response = await app.request("/internal/echo", {
        method: "POST",
        body: "hi",
        headers: {
          ...(await signedHeaders("hi")),
          "x-request-id": "req-pool-1",
          "x-tiergate-tenant": "acme",
        },
      });
      expect(response.status).toBe(200);
    } finally {
      vi.restoreAllMocks();
    }
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ msg: "handled", service: "pool", request_id: "req-pool-1", tenant: "acme" }),
    ]);
  });

  it("accepts a correctly signed call and hands the raw body on", async () => {
    const app = makeApp();
    const response = await app.request("/internal/echo", {
      method: "POST",
      body: "hi",
      headers: await signedHeaders("hi"),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hi");
  });

  it("rejects unsigned, tampered, stale, wrong-path and replayed calls with 401", async () => {
    const app = makeApp();
    const post = async (headers: Record<string, string>, body = "hi") =>
      (await app.request("/internal/echo", { method: "POST", body, headers })).status;
    expect(await post({})).toBe(401);
    expect(await post(await signedHeaders("hi"), "tampered")).toBe(401);
    expect(await post(await signedHeaders("hi", { timestamp: Date.now() - 120_000 }))).toBe(401);
    expect(await post(await signedHeaders("hi", { path: "/internal/other" }))).toBe(401);
    const once = await signedHeaders("hi");
    expect(await post(once)).toBe(200);
    expect(await post(once)).toBe(401);
  });
});
