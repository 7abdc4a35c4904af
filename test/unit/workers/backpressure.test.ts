import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createErrorHandler } from "../../../shared/on-error.ts";
import { parsePoolLoad } from "../../../shared/pool-load.ts";
import { backpressure, InFlight } from "../../../workers/pool/middleware/backpressure.ts";
import type { PoolHonoEnv } from "../../../workers/pool/types.ts";

/** A pool app with the backpressure middleware (cap 2) and a route that waits until released. */
function app() {
  const inFlight = new InFlight();
  const waiting: (() => void)[] = [];
  const hono = new Hono<PoolHonoEnv>();
  hono.use("*", async (c, next) => {
    c.set("requestId", "req_backpressure");
    await next();
  });
  hono.use("/internal/*", backpressure(inFlight, 2));
  hono.post("/internal/slow", async (c) => {
    await new Promise<void>((resolve) => waiting.push(resolve));
    return c.json({ ok: true });
  });
  hono.post("/internal/quick", (c) => c.json({ ok: true }));
  hono.onError(createErrorHandler<PoolHonoEnv>("pool"));
  return { hono, waiting, inFlight };
}

describe("the pool's backpressure and its load header", () => {
  it("reports its load on every answer, the 503 refusals past the cap included", async () => {
    const { hono, waiting } = app();
    const first = hono.request("/internal/slow", { method: "POST" });
    const second = hono.request("/internal/slow", { method: "POST" });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const refused = await hono.request("/internal/slow", { method: "POST" });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(parsePoolLoad(refused.headers.get("x-tiergate-pool-load"))).toEqual({ inFlight: 2, limit: 2 });
    for (const release of waiting.splice(0)) release();
    const answers = await Promise.all([first, second]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      const load = parsePoolLoad(answer.headers.get("x-tiergate-pool-load"));
      expect(load?.limit).toBe(2);
      expect(load?.inFlight).toBeGreaterThanOrEqual(1);
    }
    const alone = await hono.request("/internal/quick", { method: "POST" });
    expect(parsePoolLoad(alone.headers.get("x-tiergate-pool-load"))).toEqual({ inFlight: 1, limit: 2 });
  });

  it("reports the worker's time on an admitted answer in server-timing, not on a refusal", async () => {
    const { hono, waiting } = app();
    const held = [0, 1].map(() => hono.request("/internal/slow", { method: "POST" }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const refused = await hono.request("/internal/slow", { method: "POST" });
    expect(refused.headers.get("server-timing")).toBeNull();
    for (const release of waiting.splice(0)) release();
    for (const answer of await Promise.all(held)) {
      expect(answer.headers.get("server-timing")).toMatch(/^pool;dur=\d+$/);
    }
  });
});
