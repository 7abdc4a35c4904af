import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { GatewayError } from "../../../shared/errors.ts";
import { safeEqual } from "../../../shared/signing.ts";
import type { PoolHonoEnv } from "../types.ts";

const cookieName = "tiergate_dashboard";

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

interface RequestIpSource {
  requestIP(request: Request): { address: string } | null;
}

/** The peer address from Bun.serve (passed to app.fetch as the env); undefined elsewhere. */
function clientAddress(c: Parameters<MiddlewareHandler<PoolHonoEnv>>[0]): string | undefined {
  const server: unknown = c.env;
  if (typeof server !== "object" || server === null || !("requestIP" in server)) return undefined;
  if (typeof server.requestIP !== "function") return undefined;
  return (server as RequestIpSource).requestIP(c.req.raw)?.address;
}

/**
 * Who may see the dashboard. It is read-only, but it shows every tenant's traffic, so:
 * - with DASHBOARD_TOKEN set, a request needs it as `Authorization: Bearer …`, as `?token=…` (which also
 *   sets an HttpOnly, SameSite=Strict cookie for the page's own asset and data requests), or that cookie;
 * - without it, only loopback clients get in (an operator on the host, or through an SSH tunnel).
 */
export function dashboardAccess(token: string | undefined): MiddlewareHandler<PoolHonoEnv> {
  return async (c, next) => {
    if (token === undefined) {
      if (!isLoopback(clientAddress(c))) {
        throw new GatewayError(
          "UNAUTHORIZED",
          "The dashboard answers only loopback clients unless DASHBOARD_TOKEN is set.",
        );
      }
      return next();
    }
    const bearer = c.req.header("authorization")?.match(/^Bearer (.+)$/)?.[1];
    const query = c.req.query("token");
    const presented = bearer ?? query ?? getCookie(c, cookieName);
    if (presented === undefined || !safeEqual(presented, token)) {
      throw new GatewayError("UNAUTHORIZED", "A valid dashboard token is required.");
    }
    if (query !== undefined) {
      setCookie(c, cookieName, token, { httpOnly: true, sameSite: "Strict", path: "/dashboard" });
    }
    return next();
  };
}
