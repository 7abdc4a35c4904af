import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("semantic cache opt-in header", () => {
  it("rejects a bad x-tiergate-semantic-cache with 400 naming it", async () => {
    const response = await exports.default.fetch("http://edge.test/v1/chat/completions", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${env.TEST_API_KEY}`,
        "x-tiergate-semantic-cache": "maybe",
      },
      body: JSON.stringify({ model: "auto", temperature: 0, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ param: "x-tiergate-semantic-cache" });
    expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
  });
});
