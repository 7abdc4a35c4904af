import { Hono } from "hono";
import { describe, expect, it } from "vitest";
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
