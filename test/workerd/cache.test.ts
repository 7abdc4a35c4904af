import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

function chat(body: unknown, headers: Record<string, string> = {}, key = env.TEST_API_KEY) {
  return exports.default.fetch("http://edge.test/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });
}

const question = (label: string, extra: Record<string, unknown> = {}) => ({
  model: "auto",
  temperature: 0,
  messages: [{ role: "user", content: `${label} ${crypto.randomUUID()}` }],
  ...extra,
});

/** The cache write lands after the first response; poll until the entry is readable. */
async function untilHit(send: () => Promise<Response>): Promise<Response> {
  let response = await send();
  for (let i = 0; i < 30 && response.headers.get("x-cache") !== "HIT"; i++) {
    await response.arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    response = await send();
  }
  return response;
}

describe("x-cache on every response", () => {
  it("is on health, openapi, errors and non-deterministic answers", async () => {
    const responses = [
      await exports.default.fetch("http://edge.test/health"),
      await exports.default.fetch("http://edge.test/openapi.json"),
      await exports.default.fetch("http://edge.test/v1/models"),
      await chat({ model: "auto" }),
      await chat(question("warm", { temperature: 0.8 })),
    ];
    for (const response of responses) {
      expect(response.headers.get("x-cache")).toBe("BYPASS");
      await response.arrayBuffer();
    }
  });
});

describe("response cache rules", () => {
  it("never serves one tenant's entry to another tenant", async () => {
    const body = question("isolation");
    expect((await chat(body)).headers.get("x-cache")).toBe("MISS");
    expect((await untilHit(() => chat(body))).headers.get("x-cache")).toBe("HIT");
    const other = await chat(body, {}, env.TEST_OTHER_TENANT_KEY);
    expect(other.status).toBe(200);
    expect(other.headers.get("x-cache")).toBe("MISS");
  });

  it("bypasses on x-tiergate-cache: bypass and refreshes on refresh", async () => {
    const body = question("bypass");
    await (await chat(body)).arrayBuffer();
    expect((await untilHit(() => chat(body))).headers.get("x-cache")).toBe("HIT");
    expect((await chat(body, { "x-tiergate-cache": "bypass" })).headers.get("x-cache")).toBe("BYPASS");
    expect((await chat(body, { "x-tiergate-cache": "refresh" })).headers.get("x-cache")).toBe("MISS");
  });

  it("caches a non-deterministic request only with the opt-in header", async () => {
    const body = question("opt-in", { temperature: 0.9 });
    expect((await chat(body)).headers.get("x-cache")).toBe("BYPASS");
    const force = { "x-tiergate-cache": "force" };
    expect((await chat(body, force)).headers.get("x-cache")).toBe("MISS");
    expect((await untilHit(() => chat(body, force))).headers.get("x-cache")).toBe("HIT");
  });

  it("serves a recent entry from the isolate's memory, then from Redis once the memory TTL passed", async () => {
    // Non-ASCII on purpose: Redis answers as plain JSON strings (no base64), and they must round-trip.
    const body = question("memory tier, größer als 👋 — 東京");
    const first = await chat(body);
    expect(first.headers.get("x-cache")).toBe("MISS");
    const answer = await first.text();

    const fromMemory = await chat(body);
    expect(fromMemory.headers.get("x-cache")).toBe("HIT");
    expect(fromMemory.headers.get("x-tiergate-cache-tier")).toBe("memory");
    expect(await fromMemory.text()).toBe(answer);

    await new Promise((r) => setTimeout(r, 1_100)); // CACHE_MEMORY_TTL_MS is 1,000 by default
    const fromRedis = await untilHit(() => chat(body));
    expect(fromRedis.headers.get("x-tiergate-cache-tier")).toBe("redis");
    expect(await fromRedis.text()).toBe(answer);
  });

  it("rejects a bad cache header with 400 naming it", async () => {
    const response = await chat(question("bad header"), { "x-tiergate-cache-ttl": "-5" });
    expect(response.status).toBe(400);
    const error = ((await response.json()) as { error: { param: string } }).error;
    expect(error.param).toBe("x-tiergate-cache-ttl");
  });

  it("caches a completed stream and replays a hit as SSE (and as JSON to a non-stream request)", async () => {
    const body = question("stream cache", { stream: true });
    const first = await chat(body);
    expect(first.headers.get("content-type")).toContain("text/event-stream");
    expect(first.headers.get("x-cache")).toBe("MISS");
    const streamed = await first.text();
    expect(streamed).toContain("data: [DONE]");

    const hit = await untilHit(() => chat(body));
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(hit.headers.get("content-type")).toContain("text/event-stream");
    const replay = await hit.text();
    expect(replay.trim().endsWith("data: [DONE]")).toBe(true);
    const text = (sse: string) =>
      sse
        .split("\n\n")
        .filter((e) => e.startsWith("data: {"))
        .map((e) => (JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0])
        .map((choice) => choice?.delta.content ?? "")
        .join("");
    expect(text(replay)).toBe(text(streamed));

    const asJson = await chat({ ...body, stream: false });
    expect(asJson.headers.get("x-cache")).toBe("HIT");
    const completion = (await asJson.json()) as { choices: { message: { content: string } }[] };
    expect(completion.choices[0]?.message.content).toBe(text(streamed));
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After and X-RateLimit-* past the key's limit", async () => {
    const send = () =>
      exports.default.fetch("http://edge.test/v1/models", {
        headers: { authorization: `Bearer ${env.TEST_LIMITED_KEY}` },
      });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await send();
      statuses.push(last.status);
      if (last.status !== 429) await last.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    expect(last?.status).toBe(429);
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(last?.headers.get("x-ratelimit-limit")).toBe("3");
    expect(last?.headers.get("x-ratelimit-remaining")).toBe("0");
    const body = (await last?.json()) as { error: { type: string; code: string } };
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
  });
});
