import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, Next } from "hono";
import { errorResponses, jsonContent, plainResponses, textContent } from "../../../shared/openapi.ts";
import { scopeDashboardQuery } from "../../admin/dashboard-scope.ts";
import { type StatsWindow, statsWindows, windowStats } from "../../events/stats.ts";
import { costByBucket } from "../../spend/query.ts";
import { dashboardAccess, dashboardLogin, dashboardLoginPath } from "../dashboard/access.ts";
import type { DashboardStats } from "../dashboard/api-types.ts";
import { loginPage } from "../dashboard/login-page.ts";
import { dashboardPage } from "../dashboard/page.ts";
import type { PoolHonoEnv } from "../types.ts";
import { tags } from "./shared.ts";

const statsQuerySchema = z.object({
  window: z.enum(Object.keys(statsWindows) as [StatsWindow, ...StatsWindow[]]).default("1h"),
  tenant: z.string().max(128).default(""),
});

/** Chart.js's UMD build, read from node_modules once (no CDN: the page works offline). */
let chartJs: Promise<string> | undefined;
function chartJsSource(): Promise<string> {
  chartJs ??= readFile(
    join(dirname(fileURLToPath(import.meta.resolve("chart.js"))), "chart.umd.min.js"),
    "utf8",
  );
  return chartJs;
}

/** The page script with its data functions, bundled by Bun once (the pool runs on Bun). */
let appJs: Promise<string> | undefined;
function appJsSource(): Promise<string> {
  appJs ??= bundleClient();
  return appJs;
}

async function bundleClient(): Promise<string> {
  const entry = fileURLToPath(new URL("../dashboard/client.ts", import.meta.url));
  const built = await Bun.build({ entrypoints: [entry], target: "browser", minify: true });
  const output = built.outputs[0];
  if (!built.success || !output) throw new Error(`dashboard script did not build: ${built.logs.join("; ")}`);
  return output.text();
}

const javascript = { "content-type": "text/javascript; charset=utf-8", "cache-control": "max-age=300" };

/** A dashboard route: its page, assets and data are open to DASHBOARD_TOKEN holders or loopback clients. */
function dashboardRoute(path: string, summary: string, content: Record<string, { schema: z.ZodType }>) {
  return createRoute({
    method: "get",
    path,
    summary,
    tags: tags.dashboard,
    responses: plainResponses({ 200: { description: "OK", content }, ...errorResponses(401) }),
  });
}

/** The login form's POST: the token as a form field; a match sets the session cookie and redirects. */
const loginRoute = createRoute({
  method: "post",
  path: dashboardLoginPath,
  summary: "Log in with DASHBOARD_TOKEN (form field `token`); sets an HttpOnly, SameSite=Strict cookie",
  tags: tags.dashboard,
  responses: plainResponses({
    303: { description: "Logged in: the session cookie is set and the dashboard follows" },
    ...errorResponses(401),
  }),
});

const statsRoute = createRoute({
  method: "get",
  path: "/dashboard/api/stats",
  summary: "Requests, latency, tiers and cost of a window, from the ClickHouse views",
  tags: tags.dashboard,
  request: { query: statsQuerySchema },
  responses: plainResponses({
    200: { description: "OK", content: jsonContent(z.record(z.string(), z.unknown())) },
    ...errorResponses(400, 401),
  }),
});

/**
 * GET /dashboard (page), /dashboard/chart.js, /dashboard/app.js and /dashboard/api/stats (JSON from the
 * ClickHouse views), and the login form at /dashboard/login. Read-only; who may see it is decided by
 * `dashboardAccess` (DASHBOARD_TOKEN, DASHBOARD_ALLOW_LOOPBACK).
 */
export function registerDashboardRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  const access = (c: Context<PoolHonoEnv>, next: Next) =>
    dashboardAccess({
      token: c.var.services.config.DASHBOARD_TOKEN,
      allowLoopback: c.var.services.config.DASHBOARD_ALLOW_LOOPBACK,
    })(c, next);
  app.use("/dashboard", access);
  app.use("/dashboard/*", access);
  app.openapi(dashboardRoute(dashboardLoginPath, "The login form", textContent("text/html")), (c) =>
    c.html(loginPage("")),
  );
  app.openapi(loginRoute, (c) => dashboardLogin(c, c.var.services.config.DASHBOARD_TOKEN));
  app.openapi(dashboardRoute("/dashboard", "The dashboard page", textContent("text/html")), (c) =>
    c.html(dashboardPage),
  );
  app.openapi(
    dashboardRoute(
      "/dashboard/chart.js",
      "Chart.js, served from node_modules",
      textContent("text/javascript"),
    ),
    async (c) => c.body(await chartJsSource(), 200, javascript),
  );
  app.openapi(
    dashboardRoute("/dashboard/app.js", "The page's script", textContent("text/javascript")),
    async (c) => c.body(await appJsSource(), 200, javascript),
  );
  app.openapi(statsRoute, async (c) => {
    const query = scopeDashboardQuery(c, c.req.valid("query"));
    const stats = await windowStats(c.var.services.clickhouse, query);
    // Cost as the registry priced each request when it happened (events' cost_usd, summed per bucket).
    const costs = await costByBucket(c.var.services.clickhouse, {
      fromS: Math.floor(stats.fromMs / 1000 / stats.bucketSeconds) * stats.bucketSeconds,
      toS: Math.ceil(stats.toMs / 1000),
      tenant: query.tenant,
      bucketSeconds: stats.bucketSeconds,
    });
    const costOf = new Map(costs.map((p) => [`${p.t}|${p.tier}|${p.model}`, p.cost_usd]));
    const body: DashboardStats = {
      ...stats,
      tiers: stats.tiers.map((p) => ({ ...p, cost_usd: costOf.get(`${p.t}|${p.tier}|${p.model}`) ?? 0 })),
    };
    return c.json(body, 200, { "cache-control": "no-store" });
  });
}
