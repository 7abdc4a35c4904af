import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { edgeService, poolService } from "../../stack/gateway.ts";
import { upstashBridgeService } from "../../stack/services/redis.ts";

let apiKey = "";

function chat(content: string): Promise<Response> {
  return fetch(`${edgeService.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "auto", temperature: 0, messages: [{ role: "user", content }] }),
  });
}

beforeAll(async () => {
  await poolService.start();
  await edgeService.start();
  apiKey = (await createTestApiKey(`degrade-${Date.now()}`)).key;
  expect((await chat("warm the key cache")).status).toBe(200);
});

afterAll(async () => {
  await upstashBridgeService.start();
  await poolService.start();
});

describe("edge behaviour when a dependency is down", () => {
  it("keeps answering without the cache while Redis (its REST bridge) is down", async () => {
    await upstashBridgeService.stop();
    const response = await chat(`no cache ${crypto.randomUUID()}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-cache")).toBe("MISS");
    await upstashBridgeService.start();
  });

  it("answers 503 upstream_unavailable with Retry-After when the pool is down, never a hang", async () => {
    await poolService.stop();
    const response = await chat(`pool down ${crypto.randomUUID()}`);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    const body = (await response.json()) as { error: { code: string; type: string; request_id: string } };
    expect(body.error).toMatchObject({ code: "upstream_unavailable", type: "server_error" });
    expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
    await poolService.start();
    expect((await chat(`pool back ${crypto.randomUUID()}`)).status).toBe(200);
  });
});
