import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import { chatInit, FakePool, revokedKey, unitEnv } from "./fake-pool.ts";

const app = createEdgeApp();
const primary = new FakePool();
const secondary = new FakePool();
let a = "";
let b = "";
/** A port nothing listens on: connection refused. */
const closed = "http://127.0.0.1:9";

beforeAll(async () => {
  a = await primary.start();
  b = await secondary.start();
});
afterAll(async () => {
  await primary.stop();
  await secondary.stop();
});

const body = { model: "auto", messages: [{ role: "user", content: "hello" }] };

function reset(modeA: FakePool["mode"], modeB: FakePool["mode"] = { kind: "json" }) {
  primary.mode = modeA;
  secondary.mode = modeB;
  primary.chatCalls = 0;
  secondary.chatCalls = 0;
}

async function expectFallback(response: Response, reason: string, status = 503) {
  expect(response.status).toBe(status);
  expect(response.headers.get("x-fallback")).toBe(reason);
  const completion = (await response.json()) as {
    object: string;
    choices: { message: { content: string } }[];
  };
  expect(completion.object).toBe("chat.completion");
  expect(completion.choices[0]?.message.content).toMatch(/temporarily unable/);
}

describe("deterministic fallbacks (in-process, fake pools)", () => {
  it("passes a good answer through with the request id and tenant propagated", async () => {
    reset({ kind: "json" });
    const response = await app.request(
      "/v1/chat/completions",
      chatInit(body, { "x-request-id": "rid-1" }),
      unitEnv(`a=${a}`),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("x-cache")).toBe("BYPASS");
    // The pool gets the server's id (the one the client sees in x-request-id), not the client's.
    expect(primary.lastHeaders["x-request-id"]).toBe(response.headers.get("x-request-id"));
    expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    expect(response.headers.get("x-client-request-id")).toBe("rid-1");
    expect(primary.lastHeaders["x-tiergate-tenant"]).toBe("unit-tenant");
    expect(Number(primary.lastHeaders["x-tiergate-deadline"])).toBeGreaterThan(Date.now());
    expect(primary.lastHeaders["x-tiergate-signature"]).toBeTruthy();
  });

  it("answers 403 for a revoked key", async () => {
    const init = chatInit(body, { authorization: `Bearer ${revokedKey}` });
    const response = await app.request("/v1/chat/completions", init, unitEnv(`a=${a}`));
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("key_revoked");
  });

  it("falls back with upstream_error on a 500 and does not retry the POST elsewhere", async () => {
    reset({ kind: "status", status: 500 }, { kind: "status", status: 500 });
    const response = await app.request("/v1/chat/completions", chatInit(body), unitEnv(`a=${a},b=${b}`));
    await expectFallback(response, "upstream_error");
    expect(response.headers.get("retry-after")).toBe("1");
    expect(primary.chatCalls + secondary.chatCalls).toBe(1);
  });

  it("answers the fallback with 200 when FALLBACK_STATUS is 200", async () => {
    reset({ kind: "status", status: 500 });
    const env = unitEnv(`a=${a}`, { FALLBACK_STATUS: "200", FALLBACK_MESSAGE: "temporarily unable, sorry" });
    await expectFallback(
      await app.request("/v1/chat/completions", chatInit(body), env),
      "upstream_error",
      200,
    );
  });

  it("retries on another region when the first refuses the connection or answers 503", async () => {
    reset({ kind: "json" });
    const refused = await app.request(
      "/v1/chat/completions",
      chatInit(body),
      unitEnv(`dead=${closed},b=${b}`),
    );
    expect(refused.status).toBe(200);
    expect(refused.headers.get("x-tiergate-region")).toBe("b");

    // 503 means the pool refused before doing work: every region is tried before falling back.
    reset({ kind: "status", status: 503 }, { kind: "status", status: 503 });
    const busy = await app.request("/v1/chat/completions", chatInit(body), unitEnv(`a=${a},b=${b}`));
    await expectFallback(busy, "upstream_error");
    expect(primary.chatCalls).toBe(1);
    expect(secondary.chatCalls).toBe(1);
  });

  it("falls back with upstream_unreachable when no region accepts the connection", async () => {
    const response = await app.request("/v1/chat/completions", chatInit(body), unitEnv(`a=${closed}`));
    // Key verification needs the pool too: with none reachable at all, that is the 503 error.
    expect(response.status).toBe(503);
  });

  it("falls back with malformed_response when the pool's JSON is not a completion", async () => {
    reset({ kind: "malformed" });
    await expectFallback(
      await app.request("/v1/chat/completions", chatInit(body), unitEnv(`a=${a}`)),
      "malformed_response",
    );
  });

  it("falls back with upstream_timeout when a region does not answer within the attempt timeout", async () => {
    reset({ kind: "hang" });
    const env = unitEnv(`a=${a}`, { POOL_ATTEMPT_TIMEOUT_MS: "150", POOL_TIMEOUT_MS: "20000" });
    await expectFallback(await app.request("/v1/chat/completions", chatInit(body), env), "upstream_timeout");
  });

  it("falls back with deadline_exceeded when the overall deadline passes", async () => {
    reset({ kind: "hang" });
    const env = unitEnv(`a=${a}`, { POOL_TIMEOUT_MS: "150" });
    await expectFallback(await app.request("/v1/chat/completions", chatInit(body), env), "deadline_exceeded");
  });

  it("opens the region's circuit after consecutive failures and stops calling it", async () => {
    reset({ kind: "status", status: 500 });
    const env = unitEnv(`a=${a}`, { BREAKER_FAILURES: "2", BREAKER_OPEN_MS: "60000" });
    for (let i = 0; i < 2; i++) {
      await expectFallback(await app.request("/v1/chat/completions", chatInit(body), env), "upstream_error");
    }
    await expectFallback(await app.request("/v1/chat/completions", chatInit(body), env), "circuit_open");
    expect(primary.chatCalls).toBe(2);
  });
});
