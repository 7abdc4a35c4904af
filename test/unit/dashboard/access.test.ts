import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createErrorHandler } from "../../../shared/on-error.ts";
import { dashboardAccess, dashboardLogin } from "../../../workers/pool/dashboard/access.ts";
import type { PoolHonoEnv } from "../../../workers/pool/types.ts";

const token = "dashboard-token-for-tests";

function app(configured: string | undefined, allowLoopback = false): Hono<PoolHonoEnv> {
  const a = new Hono<PoolHonoEnv>();
  a.use("/dashboard", dashboardAccess({ token: configured, allowLoopback }));
  a.use("/dashboard/*", dashboardAccess({ token: configured, allowLoopback }));
  a.get("/dashboard", (c) => c.text("page"));
  a.get("/dashboard/x", (c) => c.text("ok"));
  a.post("/dashboard/login", (c) => dashboardLogin(c, configured));
  a.onError(createErrorHandler<PoolHonoEnv>("pool"));
  return a;
}

describe("dashboard access", () => {
  it("with DASHBOARD_TOKEN: bearer, or the cookie the login form sets; else 401 in the OpenAI error shape", async () => {
    const a = app(token);
    const denied = await a.request("/dashboard/x");
    expect(denied.status).toBe(401);
    const body = (await denied.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: "unauthorized", type: "authentication_error" });
    expect((await a.request("/dashboard/x", { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    expect((await a.request("/dashboard/x", { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
    // The token never travels in a URL: ?token= neither opens the door nor sets a cookie.
    const viaQuery = await a.request(`/dashboard/x?token=${token}`);
    expect(viaQuery.status).toBe(401);
    expect(viaQuery.headers.get("set-cookie")).toBeNull();
    const wrong = await a.request("/dashboard/login", {
      method: "POST",
      body: new URLSearchParams({ token: "nope" }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    const login = await a.request("/dashboard/login", {
      method: "POST",
      body: new URLSearchParams({ token }),
    });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/dashboard");
    const cookie = login.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).not.toContain(token);
    const withCookie = await a.request("/dashboard/x", { headers: { cookie: cookie.split(";")[0] ?? "" } });
    expect(withCookie.status).toBe(200);
    const forged = await a.request("/dashboard/x", { headers: { cookie: `tiergate_dashboard=${token}` } });
    expect(forged.status).toBe(401);
  });

  it("marks the cookie Secure over https", async () => {
    const login = await app(token).request("https://pool.example/dashboard/login", {
      method: "POST",
      body: new URLSearchParams({ token }),
    });
    expect(login.headers.get("set-cookie")).toMatch(/Secure/);
  });

  it("a browser without a session gets the login form (a POST form), with 401", async () => {
    const page = await app(token).request("/dashboard", { headers: { accept: "text/html" } });
    expect(page.status).toBe(401);
    const html = await page.text();
    expect(html).toMatch(/<form method="post" action="\/dashboard\/login">/);
    expect(html).toMatch(/type="password" name="token"/);
  });

  it("without a token nobody gets in, loopback included, unless DASHBOARD_ALLOW_LOOPBACK", async () => {
    const loopback = { requestIP: () => ({ address: "127.0.0.1" }) };
    const remote = { requestIP: () => ({ address: "203.0.113.9" }) };
    expect((await app(undefined).request("/dashboard/x")).status).toBe(401);
    expect((await app(undefined).request("/dashboard/x", {}, loopback)).status).toBe(401);
    expect((await app(token).request("/dashboard/x", {}, loopback)).status).toBe(401);
    expect((await app(undefined, true).request("/dashboard/x", {}, loopback)).status).toBe(200);
    expect((await app(undefined, true).request("/dashboard/x", {}, remote)).status).toBe(401);
  });
});
