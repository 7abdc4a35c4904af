import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const post = (body: unknown, auth = true) =>
  exports.default.fetch("http://edge.test/v1/feedback", {
    method: "POST",
    headers: {
      ...(auth ? { authorization: `Bearer ${env.TEST_API_KEY}` } : {}),
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });

interface ErrorShape {
  error: { message: string; type: string; code: string; param: string | null; request_id: string };
}

describe("POST /v1/feedback (inside workerd)", () => {
  it("accepts a rating and a label for a request id and forwards it to the pool (202)", async () => {
    const response = await post({
      request_id: "req_feedback_edge_1",
      rating: 1,
      label: "helpful",
      comment: "ok",
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as {
      id: string;
      object: string;
      request_id: string;
      status: string;
    };
    expect(body).toMatchObject({ object: "feedback", request_id: "req_feedback_edge_1", status: "accepted" });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("x-request-id")).toBeTruthy();
  });

  it("a label alone is enough", async () => {
    expect((await post({ request_id: "req_feedback_edge_2", label: "wrong" })).status).toBe(202);
  });

  it.each([
    [{ request_id: "req_x" }, "rating"],
    [{ request_id: "req_x", rating: 2 }, "rating"],
    [{ request_id: "bad id!", rating: 1 }, "request_id"],
    [{ request_id: "req_x", label: "Not A Label" }, "label"],
    [{ request_id: "req_x", rating: 1, extra: true }, "extra"],
  ])("bad input %j is a 400 in the OpenAI shape naming %s", async (body, param) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    const error = (await response.json()) as ErrorShape;
    expect(error.error).toMatchObject({ type: "invalid_request_error", code: "bad_request", param });
    expect(error.error.request_id).toBeTruthy();
  });

  it("needs an API key", async () => {
    const response = await post({ request_id: "req_x", rating: 1 }, false);
    expect(response.status).toBe(401);
    expect(((await response.json()) as ErrorShape).error.type).toBe("authentication_error");
  });
});
