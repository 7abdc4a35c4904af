import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import {
  AdaptiveConcurrencyLimit,
  type AdmissionConfig,
  RequestGate,
} from "../../../edge/services/admission.ts";
import { chatInit, FakePool, unitEnv } from "./fake-pool.ts";

/** A limiter on a hand-driven clock (ms). */
function limiter(config: Partial<AdmissionConfig> = {}) {
  const clock = { now: 0 };
  const limit = new AdaptiveConcurrencyLimit(
    { initialLimit: 20, minLimit: 4, maxLimit: 200, ...config },
    () => clock.now,
  );
  /** Runs one round: fills the limit, then releases every permit after `latencyMs`. */
  const round = (latencyMs: number, failed = false) => {
    const permits = [];
    for (let p = limit.tryAcquire(); p; p = limit.tryAcquire()) permits.push(p);
    clock.now += latencyMs;
    for (const permit of permits) permit.release(failed);
  };
  return { limit, clock, round };
}

describe("adaptive concurrency limit", () => {
  it("admits up to the limit and sheds past it, counting both", () => {
    const { limit } = limiter({ initialLimit: 4 });
    const permits = [1, 2, 3, 4].map(() => limit.tryAcquire());
    expect(permits.every((p) => p !== null)).toBe(true);
    expect(limit.tryAcquire()).toBeNull();
    permits[0]?.release(false);
    expect(limit.tryAcquire()).not.toBeNull();
    expect(limit.stats()).toMatchObject({ inFlight: 4, admitted: 5, shed: 1 });
  });

  it("releases a permit once, however often it is released", () => {
    const { limit } = limiter({ initialLimit: 4 });
    const permit = limit.tryAcquire();
    permit?.release(false);
    permit?.release(false);
    expect(limit.stats().inFlight).toBe(0);
  });

  it("grows while the pool's latency stays at its no-load level, up to the max", () => {
    const { limit, round } = limiter();
    for (let i = 0; i < 5; i++) round(2);
    const grown = limit.limit;
    expect(grown).toBeGreaterThan(20);
    for (let i = 0; i < 200; i++) round(2);
    expect(limit.limit).toBe(200);
  });

  it("shrinks when queueing raises latency well past the no-load level, and never below the min", () => {
    const { limit, round } = limiter({ initialLimit: 100 });
    round(2);
    const before = limit.limit;
    round(60);
    expect(limit.limit).toBeLessThan(before);
    for (let i = 0; i < 100; i++) round(60);
    expect(limit.limit).toBe(4);
  });

  it("cuts the limit multiplicatively when forwards fail", () => {
    const { limit } = limiter({ initialLimit: 100 });
    limit.tryAcquire()?.release(true);
    expect(limit.limit).toBe(90);
  });

  it("does not grow while the limit is not in use", () => {
    const { limit, clock } = limiter({ initialLimit: 40 });
    for (let i = 0; i < 100; i++) {
      const permit = limit.tryAcquire();
      clock.now += 2;
      permit?.release(false);
    }
    expect(limit.limit).toBe(40);
  });

  it("follows a pool that became slower for good once the no-load window rolls over", () => {
    const { limit, clock, round } = limiter({ initialLimit: 50, baseWindowMs: 1_000 });
    round(2);
    for (let i = 0; i < 20; i++) round(80);
    const squeezed = limit.limit;
    clock.now += 2_500; // two windows without 2 ms samples
    for (let i = 0; i < 50; i++) round(80);
    expect(limit.limit).toBeGreaterThan(squeezed);
  });
});

describe("admission control at the edge (in process, fake pool)", () => {
  const app = createEdgeApp();
  const pool = new FakePool();
  let env: Record<string, string> = {};

  beforeAll(async () => {
    const url = await pool.start();
    // A fixed limit of 2 (min = max) so the test knows where shedding starts.
    env = unitEnv(`a=${url}`, { EDGE_MAX_CONCURRENCY: "2", EDGE_MIN_CONCURRENCY: "2" });
  });
  afterAll(() => pool.stop());

  const ask = (content: string) =>
    app.request(
      "/v1/chat/completions",
      chatInit({ model: "auto", temperature: 0, messages: [{ role: "user", content }] }),
      env,
    );

  it("answers 503 + Retry-After in OpenAI's error shape past the limit, while hits are still served", async () => {
    pool.mode = { kind: "json" };
    const cached = await ask("cached question");
    expect(cached.status).toBe(200);
    pool.mode = { kind: "json", delayMs: 400 };
    pool.chatCalls = 0;
    const slow = [ask("slow 1"), ask("slow 2")];
    await new Promise((resolve) => setTimeout(resolve, 50));
    const shed = await ask("one too many");
    expect(shed.status).toBe(503);
    expect(shed.headers.get("retry-after")).toBe("1");
    const requestId = shed.headers.get("x-request-id");
    const error = ((await shed.json()) as { error: { code: string; type: string; request_id: string } })
      .error;
    expect(error).toMatchObject({ code: "overloaded", type: "server_error" });
    expect(error.request_id).toBe(requestId);
    // A cached answer does not need a forward: still served while forwarding is full.
    const hit = await ask("cached question");
    expect(hit.status).toBe(200);
    expect(hit.headers.get("x-cache")).toBe("HIT");
    const answers = await Promise.all(slow);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    // The shed request never reached the pool.
    expect(pool.chatCalls).toBe(2);
    // The slots came back: the next forward is admitted.
    pool.mode = { kind: "json" };
    expect((await ask("after the burst")).status).toBe(200);
  });
});

describe("request gate", () => {
  it("bounds requests in progress by the forward limit times a factor plus headroom", () => {
    const forwards = { limit: 10 };
    const gate = new RequestGate(forwards, { factor: 2, headroom: 3 });
    for (let i = 0; i < 23; i++) expect(gate.tryEnter()).toBe(true);
    expect(gate.tryEnter()).toBe(false);
    gate.leave();
    expect(gate.tryEnter()).toBe(true);
    forwards.limit = 20;
    expect(gate.bound).toBe(43);
    expect(gate.tryEnter()).toBe(true);
    expect(gate.stats()).toMatchObject({ inProgress: 24, shed: 1 });
  });
});

describe("the request gate at the edge (in process, fake pool)", () => {
  const app = createEdgeApp();
  const pool = new FakePool();
  let env: Record<string, string> = {};

  beforeAll(async () => {
    const url = await pool.start();
    // Two forwards, one request per forward, one of headroom: the fourth request in progress is refused.
    env = unitEnv(`a=${url}`, {
      EDGE_MAX_CONCURRENCY: "2",
      EDGE_MIN_CONCURRENCY: "2",
      EDGE_REQUESTS_PER_FORWARD: "1",
      EDGE_REQUEST_HEADROOM: "1",
    });
  });
  afterAll(() => pool.stop());

  const ask = (body: string) => app.request("/v1/chat/completions", { ...chatInit({}), body }, env);
  const question = (content: string) =>
    JSON.stringify({ model: "auto", temperature: 0, messages: [{ role: "user", content }] });

  it("refuses a request as it enters while the isolate is full, before parsing it, and admits again after", async () => {
    expect((await ask(question("warm-up"))).status).toBe(200);
    pool.mode = { kind: "json", delayMs: 400 };
    pool.chatCalls = 0;
    // Two forwards and one request coalesced onto the first: three in progress.
    const slow = [ask(question("slow 1")), ask(question("slow 1")), ask(question("slow 2"))];
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await ask("{ not json");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    const error = ((await refused.json()) as { error: { code: string; request_id: string } }).error;
    expect(error.code).toBe("overloaded");
    expect(error.request_id).toBe(refused.headers.get("x-request-id"));
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(pool.chatCalls).toBe(2);
    // Nothing in progress: the same bad body is now parsed and refused as bad input.
    expect((await ask("{ not json")).status).toBe(400);
  });
});
