import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { GatewayError } from "../../../shared/errors.ts";
import { safeEqual } from "../../../shared/signing.ts";
import { admitAdminCredential, loginWithAdminCredential } from "../../admin/dashboard-scope.ts";
import { sha256HexSync } from "../../lib/sha256.ts";
import type { PoolHonoEnv } from "../types.ts";
import { loginPage } from "./login-page.ts";

const cookieName = "tiergate_dashboard";
/** The login form's own path: always reachable, it is how a browser gets the cookie. */
export const dashboardLoginPath = "/dashboard/login";
/** How long a dashboard session cookie lasts. */
const sessionSeconds = 12 * 3600;

/** Who may see the dashboard (DASHBOARD_TOKEN, DASHBOARD_ALLOW_LOOPBACK). */
export interface DashboardAccessConfig {
  token: string | undefined;
  /** Loopback clients get in without a token. Off unless configured: a reverse proxy on the host is loopback too. */
  allowLoopback: boolean;
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

interface RequestIpSource {
  requestIP(request: Request): { address: string } | null;
}

/** The peer address from Bun.serve (passed to app.fetch as the env); undefined elsewhere. */
function clientAddress(c: Context<PoolHonoEnv>): string | undefined {
  const server: unknown = c.env;
  if (typeof server !== "object" || server === null || !("requestIP" in server)) return undefined;
  if (typeof server.requestIP !== "function") return undefined;
  return (server as RequestIpSource).requestIP(c.req.raw)?.address;
}

/** The cookie's value: derived from the token, so the cookie never holds the token itself. */
function sessionValue(token: string): string {
  return sha256HexSync(`tiergate dashboard session\n${token}`);
}

function presentedToken(c: Context<PoolHonoEnv>, token: string): boolean {
  const bearer = c.req.header("authorization")?.match(/^Bearer (.+)$/)?.[1];
  if (bearer !== undefined) return safeEqual(bearer, token);
  const cookie = getCookie(c, cookieName);
  return cookie !== undefined && safeEqual(cookie, sessionValue(token));
}

function allowed(c: Context<PoolHonoEnv>, config: DashboardAccessConfig): boolean {
  if (config.allowLoopback && isLoopback(clientAddress(c))) return true;
  return config.token !== undefined && presentedToken(c, config.token);
}

/**
 * Who may see the dashboard. It is read-only, but it shows every tenant's traffic, so a request needs
 * DASHBOARD_TOKEN as `Authorization: Bearer …` or the session cookie the login form sets. The token
 * never travels in a URL. Without a token nobody gets in, unless DASHBOARD_ALLOW_LOOPBACK lets loopback
 * clients in (only safe when no reverse proxy runs on the host). A browser asking for the page gets the
 * login form (401); everything else gets 401 in the OpenAI error shape.
 */
export function dashboardAccess(config: DashboardAccessConfig): MiddlewareHandler<PoolHonoEnv> {
  return async (c, next) => {
    if (c.req.path === dashboardLoginPath) return next();
    // An admin credential first: its scope (a tenant-admin's tenant) applies even to loopback clients.
    if ((await admitAdminCredential(c)) || allowed(c, config)) return next();
    if (
      c.req.method === "GET" &&
      c.req.path === "/dashboard" &&
      c.req.header("accept")?.includes("text/html")
    ) {
      return c.html(loginPage(config.token !== undefined ? "" : "DASHBOARD_TOKEN is not set."), 401);
    }
    throw new GatewayError("UNAUTHORIZED", "A valid dashboard token is required.");
  };
}

/**
 * POST /dashboard/login (form field `token`): a right token sets an HttpOnly, SameSite=Strict session
 * cookie (Secure over https) and redirects to the dashboard; a wrong one shows the form again (401).
 */
export async function dashboardLogin(c: Context<PoolHonoEnv>, token: string | undefined): Promise<Response> {
  const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const presented = form.token;
  if (await loginWithAdminCredential(c, presented)) return c.redirect("/dashboard", 303);
  if (token === undefined || typeof presented !== "string" || !safeEqual(presented, token)) {
    return c.html(loginPage("That token is not right."), 401);
  }
  const https =
    new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto")?.split(",")[0] === "https";
  setCookie(c, cookieName, sessionValue(token), {
    httpOnly: true,
    sameSite: "Strict",
    secure: https,
    path: "/dashboard",
    maxAge: sessionSeconds,
  });
  return c.redirect("/dashboard", 303);
}
