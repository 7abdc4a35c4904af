import type { Hono } from "hono";
import type { HonoEnv } from "../types.ts";

/** Liveness of the edge itself; it needs no dependency to answer. */
export function registerHealthRoutes(app: Hono<HonoEnv>): void {
  app.get("/health", (c) => c.json({ status: "ok", service: "tiergate-edge" }));
}
