import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createErrorHandler } from "../../../shared/on-error.ts";
import { dashboardAccess } from "../../../workers/pool/dashboard/access.ts";
import { costUsd } from "../../../workers/pool/dashboard/prices.ts";
import type { PoolHonoEnv } from "../../../workers/pool/types.ts";

const token = "dashboard-token-for-tests";

function app(configured: string | undefined): Hono<PoolHonoEnv> {
  const a = new Hono<PoolHonoEnv>();
  a.use("/dashboard/*", dashboardAccess(configured));
  a.get("/dashboard/x", (c) => c.text("ok"));
  a.onError(createErrorHandler<PoolHonoEnv>("pool"));
  return a;
}

describe("dashboard access", () => {
  it("with DASHBOARD_TOKEN: bearer, query (sets a cookie) or cookie; else 401 in the OpenAI error shape", async () => {
    const a = app(token);
    const denied = await a.request("/dashboard/x");
    expect(denied.status).toBe(401);
    const body = (await denied.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: "unauthorized", type: "authentication_error" });
    expect((await a.request("/dashboard/x", { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    expect((await a.request("/dashboard/x", { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
    const viaQuery = await a.request(`/dashboard/x?token=${token}`);
    expect(viaQuery.status).toBe(200);
    const cookie = viaQuery.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await a.request("/dashboard/x", { headers: { cookie: cookie.split(";")[0] ?? "" } });
    expect(withCookie.status).toBe(200);
  });

  it("without a token: a client whose address is not known to be loopback is refused", async () => {
    expect((await app(undefined).request("/dashboard/x")).status).toBe(401);
  });

  it("estimates cost per tier from tokens; unknown tiers cost nothing", () => {
    expect(costUsd("large", 1_000_000, 1_000_000)).toBeCloseTo(3);
    expect(costUsd("small", 2_000_000, 0)).toBeCloseTo(0.1);
    expect(costUsd("mystery", 1_000, 1_000)).toBe(0);
  });
});
