import { Hono } from "hono";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { requireApiKey } from "../../../edge/middleware/auth.ts";
import { initServices } from "../../../edge/middleware/init.ts";
import { requestIdAndCacheStatus } from "../../../edge/middleware/request-id.ts";
import type { HonoEnv } from "../../../edge/types.ts";
import { createErrorHandler } from "../../../shared/on-error.ts";
import { FakePool, goodKey, unitEnv } from "./fake-pool.ts";

/** The edge's request-id, config and key middlewares in front of two probes; errors go to the one onError. */
function probeApp(): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  app.use(requestIdAndCacheStatus);
  app.use(initServices);
  app.use(requireApiKey);
  app.get("/probe", (c) => {
    c.var.log.info("probe", { step: 1 });
    return c.text("ok");
  });
  app.get("/boom", () => {
    throw new Error("exploded");
  });
  app.onError(createErrorHandler<HonoEnv>("edge"));
  return app;
}

/** Every JSON line the console received while `run` ran. */
async function logLines(run: () => unknown): Promise<{ raw: string; json: Record<string, unknown> }[]> {
  const written: string[] = [];
  const capture = (line: unknown) => {
    written.push(String(line));
  };
  vi.spyOn(console, "log").mockImplementation(capture);
  vi.spyOn(console, "error").mockImplementation(capture);
  await run();
  vi.restoreAllMocks();
  return written.map((raw) => ({ raw, json: JSON.parse(raw) as Record<string, unknown> }));
}

describe("the edge's request logger", () => {
  const pool = new FakePool();
  let regions = "";
  const app = probeApp();
  const auth = { authorization: `Bearer ${goodKey}` };

  beforeAll(async () => {
    regions = `local=${await pool.start()}`;
  });
  afterAll(() => pool.stop());
  afterEach(() => vi.restoreAllMocks());

  it("binds the server and client request ids and, once the key is verified, the tenant to every line; never the key", async () => {
    let response: Response | undefined;
    const lines = await logLines(async () => {
      response = await app.request(
        "/probe",
        { headers: { ...auth, "x-request-id": "req-log-1" } },
        unitEnv(regions),
      );
    });
    expect(response?.status).toBe(200);
    expect(lines.map((l) => l.json)).toEqual([
      expect.objectContaining({
        level: "info",
        msg: "probe",
        step: 1,
        service: "edge",
        request_id: response?.headers.get("x-request-id"),
        client_request_id: "req-log-1",
        tenant: "unit-tenant",
      }),
    ]);
    for (const line of lines) expect(line.raw).not.toContain(goodKey);
  });

  it("logs a 5xx once, through the request's logger, with the error", async () => {
    let response: Response | undefined;
    const lines = await logLines(async () => {
      response = await app.request("/boom", { headers: auth }, unitEnv(regions));
    });
    expect(response?.status).toBe(500);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.json).toMatchObject({
      level: "error",
      msg: "request failed",
      code: "INTERNAL",
      request_id: response?.headers.get("x-request-id"),
      tenant: "unit-tenant",
      error: { name: "Error", message: "exploded" },
    });
  });

  it("writes nothing below LOG_LEVEL", async () => {
    const lines = await logLines(() =>
      app.request("/probe", { headers: auth }, unitEnv(regions, { LOG_LEVEL: "warn" })),
    );
    expect(lines).toEqual([]);
  });

  it("logs a bad environment with the request id, before any key is read", async () => {
    let response: Response | undefined;
    const lines = await logLines(async () => {
      response = await app.request("/probe", { headers: auth }, { POOL_REGIONS: "nope" });
    });
    expect(response?.status).toBe(500);
    const requestId = response?.headers.get("x-request-id");
    expect(lines.map((l) => l.json)).toEqual([
      expect.objectContaining({ level: "error", msg: "bad environment", request_id: requestId }),
      expect.objectContaining({
        level: "error",
        msg: "request failed",
        code: "BAD_ENVIRONMENT",
        request_id: requestId,
      }),
    ]);
    expect(lines[0]?.json.problems).toEqual(
      expect.arrayContaining([expect.stringContaining("POOL_REGIONS")]),
    );
  });
});
