import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { isRequestId, newRequestId } from "../../../shared/request-id.ts";
import { feedbackRequestSchema } from "../../../shared/schemas/feedback.ts";
import { poolRequestId } from "../../../workers/pool/middleware/request-id.ts";
import type { PoolHonoEnv } from "../../../workers/pool/types.ts";

function poolApp(): Hono<PoolHonoEnv> {
  const app = new Hono<PoolHonoEnv>();
  app.use(poolRequestId);
  app.get("/id", (c) => c.json({ id: c.var.requestId, client: c.var.clientRequestId ?? null }));
  return app;
}

describe("one request id validator for the edge and the pool", () => {
  it("the pool keeps every id the edge accepts (dots and colons included) and the client's id", async () => {
    for (const id of ["req_0123", "a.b:c-d_e", "x".repeat(128), newRequestId()]) {
      expect(isRequestId(id)).toBe(true);
      const response = await poolApp().request("/id", {
        headers: { "x-request-id": id, "x-tiergate-client-request-id": "client.1:a" },
      });
      expect(await response.json()).toEqual({ id, client: "client.1:a" });
      expect(response.headers.get("x-request-id")).toBe(id);
    }
  });

  it("the pool replaces an id the edge would reject", async () => {
    for (const id of ["has space", "x".repeat(129), "semi;colon"]) {
      expect(isRequestId(id)).toBe(false);
      const response = await poolApp().request("/id", { headers: { "x-request-id": id } });
      expect(((await response.json()) as { id: string }).id).toMatch(/^req_[0-9a-f]{32}$/);
    }
  });

  it("feedback names a request by request_id or client_request_id, exactly one", () => {
    expect(feedbackRequestSchema.safeParse({ request_id: "req_1", rating: 1 }).success).toBe(true);
    expect(feedbackRequestSchema.safeParse({ client_request_id: "c:1", label: "wrong" }).success).toBe(true);
    expect(feedbackRequestSchema.safeParse({ rating: 1 }).success).toBe(false);
    expect(
      feedbackRequestSchema.safeParse({ request_id: "a", client_request_id: "b", rating: 1 }).success,
    ).toBe(false);
    expect(feedbackRequestSchema.safeParse({ client_request_id: "bad id", rating: 1 }).success).toBe(false);
  });
});
