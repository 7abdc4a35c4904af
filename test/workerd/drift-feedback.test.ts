import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const post = (body: unknown, auth = true, key = env.TEST_API_KEY) =>
  exports.default.fetch("http://edge.test/v1/feedback", {
    method: "POST",
    headers: {
      ...(auth ? { authorization: `Bearer ${key}` } : {}),
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });

/** The id of a request the test tenant really made (a one-token chat answer, not cached). */
async function answeredRequestId(): Promise<string> {
  const response = await exports.default.fetch("http://edge.test/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${env.TEST_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "small",
      temperature: 0.7,
      max_tokens: 1,
      messages: [{ role: "user", content: `feedback probe ${crypto.randomUUID()}` }],
    }),
  });
  expect(response.status).toBe(200);
  await response.body?.cancel();
  const id = response.headers.get("x-request-id");
  if (!id) throw new Error("no x-request-id on the answer");
  return id;
}

interface ErrorShape {
  error: { message: string; type: string; code: string; param: string | null; request_id: string };
}

describe("POST /v1/feedback (inside workerd)", () => {
  it("accepts a rating and a label for a request id and forwards it to the pool (202)", async () => {
    const requestId = await answeredRequestId();
    const response = await post({
      request_id: requestId,
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
    expect(body).toMatchObject({ object: "feedback", request_id: requestId, status: "accepted" });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("x-request-id")).toBeTruthy();
  });

  it("accepts feedback that names the request by the client's own id, sent to the edge as x-request-id", async () => {
    const clientId = `client-${crypto.randomUUID()}`;
    const answer = await exports.default.fetch("http://edge.test/v1/chat/completions", {
      method: "POST",
      headers: {
        authorization: `Bearer ${env.TEST_API_KEY}`,
        "content-type": "application/json",
        "x-request-id": clientId,
      },
      body: JSON.stringify({
        model: "small",
        temperature: 0.7,
        max_tokens: 1,
        messages: [{ role: "user", content: `client id probe ${crypto.randomUUID()}` }],
      }),
    });
    expect(answer.status).toBe(200);
    await answer.body?.cancel();
    expect(answer.headers.get("x-client-request-id")).toBe(clientId);
    const serverId = answer.headers.get("x-request-id");
    expect(serverId).not.toBe(clientId);
    const response = await post({ client_request_id: clientId, rating: 1 });
    expect(response.status).toBe(202);
    expect(((await response.json()) as { request_id: string }).request_id).toBe(serverId);
  });

  it("a label alone is enough", async () => {
    expect((await post({ request_id: await answeredRequestId(), label: "wrong" })).status).toBe(202);
  });

  it("refuses feedback on another tenant's request, or an unknown one, with 404", async () => {
    const requestId = await answeredRequestId();
    const foreign = await post({ request_id: requestId, label: "wrong" }, true, env.TEST_OTHER_TENANT_KEY);
    expect(foreign.status).toBe(404);
    const error = (await foreign.json()) as ErrorShape;
    expect(error.error).toMatchObject({ type: "invalid_request_error", param: "request_id" });
    const unknown = await post({ request_id: `req_${crypto.randomUUID().replaceAll("-", "")}`, rating: -1 });
    expect(unknown.status).toBe(404);
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
