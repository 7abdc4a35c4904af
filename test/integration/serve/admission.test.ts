import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { poolService } from "../../stack/gateway.ts";
import { startPrivateEdge } from "../../stack/private-edge.ts";

/**
 * Overload at the edge, served as `npm start` serves it (deploy bundle in workerd serve) in front of the
 * stack's pool and model server, with the admission limit pinned at 3 forwards so a burst is overload.
 */
let edge: Awaited<ReturnType<typeof startPrivateEdge>>;
let apiKey = "";

const ask = (content: string) =>
  fetch(`${edge.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "auto",
      temperature: 0,
      max_tokens: 4,
      messages: [{ role: "user", content }],
    }),
  });

beforeAll(async () => {
  await poolService.start();
  edge = await startPrivateEdge({
    name: "serve-admission-edge",
    port: 18_793,
    metricsPort: 18_794,
    bindings: { EDGE_MAX_CONCURRENCY: "3", EDGE_MIN_CONCURRENCY: "3" },
  });
  apiKey = (await createTestApiKey(`serve-admission-${Date.now()}`)).key;
});

afterAll(async () => {
  await edge?.stop();
});

describe("admission control under a burst of misses", () => {
  it("sheds past the limit with 503 + Retry-After in OpenAI's error shape, answers the rest, and keeps serving hits", async () => {
    const cachedQuestion = `cached ${crypto.randomUUID()}`;
    expect((await ask(cachedQuestion)).status).toBe(200);
    let hitFirst = await ask(cachedQuestion);
    for (let i = 0; i < 20 && hitFirst.headers.get("x-cache") !== "HIT"; i++)
      hitFirst = await ask(cachedQuestion);
    expect(hitFirst.headers.get("x-cache")).toBe("HIT");

    const burst = Array.from({ length: 24 }, (_, i) => ask(`burst ${i} ${crypto.randomUUID()}`));
    const hits = Array.from({ length: 4 }, () => ask(cachedQuestion));
    const answers = await Promise.all(burst);
    const hitAnswers = await Promise.all(hits);

    for (const hit of hitAnswers) {
      expect(hit.status).toBe(200);
      expect(hit.headers.get("x-cache")).toBe("HIT");
    }
    const shed = answers.filter((r) => r.status === 503);
    const served = answers.filter((r) => r.status === 200);
    expect(shed.length).toBeGreaterThan(0);
    expect(served.length).toBeGreaterThan(0);
    expect(shed.length + served.length).toBe(answers.length);
    for (const response of shed) {
      expect(response.headers.get("retry-after")).toBe("1");
      const body = (await response.json()) as { error: { code: string; type: string; request_id: string } };
      expect(body.error).toMatchObject({ code: "overloaded", type: "server_error" });
      expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
    }
    // After the burst the slots are free again.
    expect((await ask(`after ${crypto.randomUUID()}`)).status).toBe(200);
  });
});
