import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { clickhouseConfig } from "../../../workers/clickhouse/config.ts";
import { type FaultProxy, startFaultProxy } from "../../stack/fault-proxy/client.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { eventually, modelServerRoot } from "./harness.ts";
import { startTestPool, type TestPool } from "./pool-harness.ts";

// A pool routing from the environment only (REGISTRY_SOURCE=env): medium behind a fault proxy,
// the other tiers straight on the model server. MAX_IN_FLIGHT=1 makes backpressure easy to reach.
let medium: FaultProxy;
let pool: TestPool;
const env = localPoolEnv();
const clickhouse = createClickHouse(clickhouseConfig(env));

beforeAll(async () => {
  medium = await startFaultProxy(modelServerRoot);
  pool = await startTestPool(18_091, {
    REGISTRY_SOURCE: "env",
    VLLM_MEDIUM_BASE_URL: `${medium.url}/v1`,
    VLLM_MEDIUM_MODEL: "tiergate-medium",
    MAX_IN_FLIGHT: "1",
    BREAKER_FAILURE_THRESHOLD: "1000", // these tests break medium on purpose; keep it in rotation
  });
});
afterAll(async () => {
  await Promise.all([pool?.stop(), medium?.stop()]);
  await clickhouse.close();
});

const chat = (extra: Record<string, unknown>) => ({
  model: "medium",
  max_tokens: 4,
  temperature: 0,
  messages: [{ role: "user", content: "Say hi" }],
  ...extra,
});

describe("the pool's chat route", () => {
  it("answers with the routing headers and records exactly one event", async () => {
    await medium.set({ mode: "pass" });
    const requestId = `pool-route-${crypto.randomUUID()}`;
    const response = await pool.call("POST", "/internal/v1/chat/completions", chat({}), {
      "x-request-id": requestId,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-tiergate-tier")).toBe("medium");
    expect(response.headers.get("x-tiergate-provider")).toBe("openai-compatible");
    expect(response.headers.get("x-tiergate-model-version")).toBe("tiergate-medium@1");
    expect(response.headers.get("x-tiergate-route")).toBe("tier;requested=medium;tier=medium");
    await response.json();
    const rows = await eventually(async () => {
      const found = await clickhouse.query(
        "SELECT tier, model_version, provider, status FROM events FINAL WHERE request_id = {id:String}",
        { id: requestId },
        z.object({ tier: z.string(), model_version: z.string(), provider: z.string(), status: z.number() }),
      );
      return found.length > 0 ? found : undefined;
    });
    expect(rows).toEqual([
      { tier: "medium", model_version: "tiergate-medium@1", provider: "openai-compatible", status: 200 },
    ]);
  });

  it("a stream cut before the first token is served by the next tier, invisibly", async () => {
    await medium.set({ mode: "cut", afterBytes: 0 });
    const response = await pool.call("POST", "/internal/v1/chat/completions", chat({ stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-tiergate-tier")).toBe("large");
    const body = await response.text();
    // The only medium endpoint is retried (jittered backoff), then the next tier answers.
    expect(response.headers.get("x-tiergate-fallback-reason")).toMatch(
      /^(medium-env-0:(stream_cut|connection),?)+$/,
    );
    expect(body).not.toContain('"error"');
    expect(body.trim().endsWith("data: [DONE]")).toBe(true);
  });

  it("a stream cut after the first token ends with an SSE error event, never with [DONE]", async () => {
    await medium.set({ mode: "cut", afterBytes: 700 });
    const response = await pool.call(
      "POST",
      "/internal/v1/chat/completions",
      chat({ stream: true, max_tokens: 24 }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("x-tiergate-tier")).toBe("medium");
    const events = (await response.text())
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => line.slice(6));
    expect(
      events.some((data) => data !== "[DONE]" && (JSON.parse(data) as { choices?: unknown[] }).choices),
    ).toBe(true);
    const last = JSON.parse(events.at(-1) ?? "{}") as { error?: { code: string; request_id: string } };
    expect(last.error?.code).toBe("upstream_unavailable");
    expect(events).not.toContain("[DONE]");
  });

  it("404s an unknown model in the OpenAI error shape", async () => {
    const response = await pool.call(
      "POST",
      "/internal/v1/chat/completions",
      chat({ model: "no-such-model" }),
    );
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string; param: string } }).error).toMatchObject({
      code: "model_not_found",
      param: "model",
    });
  });

  it("lists auto, the tiers and the concrete models", async () => {
    const response = await pool.call("GET", "/internal/v1/models");
    const ids = ((await response.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        "auto",
        "small",
        "medium",
        "large",
        "embed",
        "tiergate-large",
        "tiergate-embed",
      ]),
    );
  });
});

describe("backpressure covers streams until they end", () => {
  it("while one stream is still running, every further request gets 503 with Retry-After at once; afterwards requests flow again", async () => {
    await medium.set({ mode: "pass" });
    const held = await pool.call(
      "POST",
      "/internal/v1/chat/completions",
      chat({ stream: true, max_tokens: 64 }),
    );
    expect(held.status).toBe(200); // headers arrive with the first token; the stream goes on
    let heldEnded = false;
    const drained = held.text().then((body) => {
      heldEnded = true;
      return body;
    });

    const rejected = await Promise.all(
      Array.from({ length: 50 }, () => pool.call("POST", "/internal/v1/chat/completions", chat({}))),
    );
    // None of them waited for the running stream: all were refused while it was still running.
    expect(heldEnded).toBe(false);
    for (const response of rejected) {
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("overloaded");
    }
    expect((await drained).trim().endsWith("data: [DONE]")).toBe(true);

    const after = await pool.call("POST", "/internal/v1/chat/completions", chat({}));
    expect(after.status).toBe(200);
  });
});
