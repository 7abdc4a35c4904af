import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { edgeService, poolService } from "../../stack/gateway.ts";
import { upstashBridgeService } from "../../stack/services/redis.ts";

let apiKey = "";

function chat(content: string): Promise<Response> {
  return fetch(`${edgeService.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "auto",
      temperature: 0,
      max_tokens: 8,
      messages: [{ role: "user", content }],
    }),
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

describe("edge behaviour when a dependency is stopped", () => {
  it("keeps answering without the cache, and the rate limiter fails open, while Redis (its REST bridge) is down", async () => {
    await upstashBridgeService.stop();
    try {
      const response = await chat(`no cache ${crypto.randomUUID()}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("x-cache")).toBe("MISS");
      // A key the edge has not counted yet has to ask Redis: the limiter fails open, nothing counted,
      // so the whole limit remains.
      const known = apiKey;
      apiKey = (await createTestApiKey(`degrade-fresh-${Date.now()}`)).key;
      try {
        const fresh = await chat(`no cache, new key ${crypto.randomUUID()}`);
        expect(fresh.status).toBe(200);
        expect(fresh.headers.get("x-ratelimit-remaining")).toBe(fresh.headers.get("x-ratelimit-limit"));
      } finally {
        apiKey = known;
      }
    } finally {
      await upstashBridgeService.start();
    }
  });

  it("answers the deterministic fallback (x-fallback: upstream_unreachable) when the pool is down, never a hang", async () => {
    await poolService.stop();
    try {
      const response = await chat(`pool down ${crypto.randomUUID()}`);
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      expect(response.headers.get("x-fallback")).toBe("upstream_unreachable");
      const body = (await response.json()) as { object: string; choices: unknown[] };
      expect(body.object).toBe("chat.completion");
      expect(body.choices).toHaveLength(1);
    } finally {
      await poolService.start();
    }
    // Back within a few tries: the first may still meet a connection the stopped pool left behind,
    // which gets the deterministic fallback (never a hang or a 500).
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await chat(`pool back ${crypto.randomUUID()}`)).status;
      expect([200, 503]).toContain(status);
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
  });
});
