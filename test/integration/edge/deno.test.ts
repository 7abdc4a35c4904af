import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { denoEdgeService, poolService } from "../../stack/gateway.ts";

let apiKey = "";

beforeAll(async () => {
  await poolService.start();
  await denoEdgeService.start();
  apiKey = (await createTestApiKey(`deno-${Date.now()}`)).key;
});

afterAll(async () => {
  await denoEdgeService.stop();
});

describe("the same edge app on Deno", () => {
  it("serves health and a chat completion through the pool, then a cache hit", async () => {
    expect((await fetch(`${denoEdgeService.url}/health`)).status).toBe(200);
    const body = JSON.stringify({
      model: "auto",
      temperature: 0,
      messages: [{ role: "user", content: `deno ${crypto.randomUUID()}` }],
    });
    const send = () =>
      fetch(`${denoEdgeService.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body,
      });
    const first = await send();
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("MISS");
    expect(((await first.json()) as { object: string }).object).toBe("chat.completion");
    let cacheStatus = "";
    for (let i = 0; i < 20 && cacheStatus !== "HIT"; i++) {
      const again = await send();
      expect(again.status).toBe(200);
      cacheStatus = again.headers.get("x-cache") ?? "";
      if (cacheStatus !== "HIT") await new Promise((r) => setTimeout(r, 100));
    }
    expect(cacheStatus).toBe("HIT");
  });

  it("answers malformed input with a 4xx in the OpenAI shape", async () => {
    const response = await fetch(`${denoEdgeService.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "text/plain" },
      body: "hello",
    });
    expect(response.status).toBe(415);
    const body = (await response.json()) as { error: { type: string; request_id: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
  });
});
