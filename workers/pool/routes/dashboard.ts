import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context, Hono, Next } from "hono";
import { z } from "zod";
import { parseOrThrow } from "../../../shared/validation.ts";
import { type StatsWindow, statsWindows, windowStats } from "../../events/stats.ts";
import { dashboardAccess, dashboardLogin, dashboardLoginPath } from "../dashboard/access.ts";
import type { DashboardStats } from "../dashboard/api-types.ts";
import { loginPage } from "../dashboard/login-page.ts";
import { dashboardPage } from "../dashboard/page.ts";
import { costUsd } from "../dashboard/prices.ts";
import type { PoolHonoEnv } from "../types.ts";

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

/** The page script, TypeScript transpiled by Bun once (the pool runs on Bun). */
let appJs: Promise<string> | undefined;
function appJsSource(): Promise<string> {
  appJs ??= readFile(new URL("../dashboard/client.ts", import.meta.url), "utf8").then((source) =>
    new Bun.Transpiler({ loader: "ts", target: "browser" }).transformSync(source),
  );
  return appJs;
}

const javascript = { "content-type": "text/javascript; charset=utf-8", "cache-control": "max-age=300" };

/**
 * GET /dashboard (page), /dashboard/chart.js, /dashboard/app.js and /dashboard/api/stats (JSON from the
 * ClickHouse views), and the login form at /dashboard/login. Read-only; who may see it is decided by
 * `dashboardAccess` (DASHBOARD_TOKEN, DASHBOARD_ALLOW_LOOPBACK).
 */
export function registerDashboardRoutes(app: Hono<PoolHonoEnv>): void {
  const access = (c: Context<PoolHonoEnv>, next: Next) =>
    dashboardAccess({
      token: c.var.services.config.DASHBOARD_TOKEN,
      allowLoopback: c.var.services.config.DASHBOARD_ALLOW_LOOPBACK,
    })(c, next);
  app.use("/dashboard", access);
  app.use("/dashboard/*", access);
  app.get(dashboardLoginPath, (c) => c.html(loginPage("")));
  app.post(dashboardLoginPath, (c) => dashboardLogin(c, c.var.services.config.DASHBOARD_TOKEN));
  app.get("/dashboard", (c) => c.html(dashboardPage));
  app.get("/dashboard/chart.js", async (c) => c.body(await chartJsSource(), 200, javascript));
  app.get("/dashboard/app.js", async (c) => c.body(await appJsSource(), 200, javascript));
  app.get("/dashboard/api/stats", async (c) => {
    const query = parseOrThrow(statsQuerySchema, c.req.query());
    const stats = await windowStats(c.var.services.clickhouse, query);
    const body: DashboardStats = {
      ...stats,
      tiers: stats.tiers.map((p) => ({
        ...p,
        cost_usd: costUsd(p.tier, p.prompt_tokens, p.completion_tokens),
      })),
    };
    return c.json(body, 200, { "cache-control": "no-store" });
  });
}
