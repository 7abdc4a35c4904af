import type { Hono } from "hono";
import { parseJsonBodyText } from "../../../shared/json-limits.ts";
import { keyVerifyRequestSchema } from "../../../shared/schemas/keys.ts";
import { parseOrThrow } from "../../../shared/validation.ts";
import type { PoolHonoEnv } from "../types.ts";

/** POST /internal/v1/keys/verify: the edge asks what a key hash belongs to (signed). */
export function registerKeyRoutes(app: Hono<PoolHonoEnv>): void {
  app.post("/internal/v1/keys/verify", async (c) => {
    const { key_hash } = parseOrThrow(keyVerifyRequestSchema, parseJsonBodyText(c.var.rawBody || "{}"));
    return c.json({ key: await c.var.services.keys.findByHash(key_hash) });
  });
}
