import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const url = "http://edge.test/v1/chat/completions";

function chat(body: unknown, init: { key?: string | null; headers?: Record<string, string> } = {}) {
  const key = init.key === undefined ? env.TEST_API_KEY : init.key;
  return exports.default.fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...init.headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("edge in workerd", () => {
  it("answers /health without dependencies", async () => {
    const response = await exports.default.fetch("http://edge.test/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });

  it("rejects a missing key with 401 in the OpenAI error shape", async () => {
    const response = await chat(
      { model: "auto", messages: [{ role: "user", content: "hi" }] },
      { key: null },
    );
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: "authentication_error", code: "unauthorized", param: null });
    expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
  });

  it("rejects an unknown key with 401", async () => {
    const response = await chat(
      { model: "auto", messages: [{ role: "user", content: "hi" }] },
      { key: "tg_nope" },
    );
    expect(response.status).toBe(401);
  });

  it("goes through the pool on a miss and serves the second identical request from the cache", async () => {
    const body = {
      model: "auto",
      temperature: 0,
      messages: [{ role: "user", content: `edge path ${crypto.randomUUID()}` }],
    };
    const first = await chat(body);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("MISS");
    const completion = (await first.json()) as {
      object: string;
      choices: { message: { content: string } }[];
    };
    expect(completion.object).toBe("chat.completion");
    expect(typeof completion.choices[0]?.message.content).toBe("string");

    let second = await chat(body);
    // The cache write happens after the first response; allow it to land.
    for (let i = 0; i < 20 && second.headers.get("x-cache") !== "HIT"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      second = await chat(body);
    }
    expect(second.headers.get("x-cache")).toBe("HIT");
    expect(await second.json()).toEqual(completion);
  });

  it("answers bad JSON with 400 invalid_json", async () => {
    const response = await chat("{not json");
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string } };
    expect(body.error.code).toBe("invalid_json");
  });

  it("names the offending field in param", async () => {
    const response = await chat({
      model: "auto",
      temperature: 7,
      messages: [{ role: "user", content: "x" }],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { param: string } };
    expect(body.error.param).toBe("temperature");
  });
});
