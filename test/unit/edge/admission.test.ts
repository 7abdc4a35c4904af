import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import { AdaptiveConcurrencyLimit, type AdmissionConfig } from "../../../edge/services/admission.ts";
import { RequestGate, type RequestGateConfig } from "../../../edge/services/request-gate.ts";
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
    expect(shed.headers.get("x-tiergate-shed")).toBe("forwards");
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
  const gate = (config: Partial<RequestGateConfig> = {}) => {
    const clock = { now: 0 };
    const requests = new RequestGate(
      { initialBound: 20, minBound: 4, maxBound: 100, targetMs: 50, intervalMs: 100, ...config },
      () => clock.now,
    );
    /** One window: `inProgress` requests enter, each reaches its forward after `ms`, all leave. */
    const window = (ms: number, inProgress = requests.bound) => {
      let entered = 0;
      while (entered < inProgress && requests.tryEnter()) entered++;
      clock.now += 100;
      for (let i = 0; i < entered; i++) requests.observe(ms + (i % 10));
      for (let i = 0; i < entered; i++) requests.leave();
    };
    return { requests, window };
  };

  it("admits a burst past the bound, up to the max, while no queue stands", () => {
    const { requests } = gate({ initialBound: 3, minBound: 1, maxBound: 5 });
    expect([1, 2, 3, 4, 5].map(() => requests.tryEnter())).toEqual([true, true, true, true, true]);
    expect(requests.tryEnter()).toBe(false);
    expect(requests.stats()).toMatchObject({ inProgress: 5, bound: 3, shed: 1 });
  });

  it("refuses past the bound while a queue stands, and admits again once a request leaves", () => {
    const { requests, window } = gate({ initialBound: 4, minBound: 3 });
    window(80);
    expect(requests.congested).toBe(true);
    expect(requests.bound).toBe(3);
    expect([1, 2, 3].map(() => requests.tryEnter())).toEqual([true, true, true]);
    expect(requests.tryEnter()).toBe(false);
    requests.leave();
    expect(requests.tryEnter()).toBe(true);
    expect(requests.stats()).toMatchObject({ inProgress: 3, shed: 1 });
  });

  it("cuts the bound while even the fastest request of a window queued past the target, down to the min", () => {
    const { requests, window } = gate();
    expect(requests.congested).toBe(false);
    window(80);
    expect(requests.bound).toBe(16);
    expect(requests.congested).toBe(true);
    for (let i = 0; i < 20; i++) window(80);
    expect(requests.bound).toBe(4);
  });

  it("grows while requests reach their forward in time and the bound is in use, up to the max", () => {
    const { requests, window } = gate();
    window(5);
    expect(requests.bound).toBeGreaterThan(20);
    for (let i = 0; i < 50; i++) window(5);
    expect(requests.bound).toBe(100);
  });

  it("does not grow while the bound is not in use, nor cut for one slow request among fast ones", () => {
    const { requests, window } = gate();
    for (let i = 0; i < 10; i++) window(5, 3);
    expect(requests.bound).toBe(20);
    window(5, 20);
    const grown = requests.bound;
    requests.observe(500);
    window(10, 1);
    expect(requests.bound).toBeGreaterThanOrEqual(grown);
  });
});

describe("the request gate at the edge (in process, fake pool)", () => {
  const app = createEdgeApp();
  const pool = new FakePool();
  let env: Record<string, string> = {};

  beforeAll(async () => {
    const url = await pool.start();
    // At most three requests in progress: the fourth is refused.
    env = unitEnv(`a=${url}`, { EDGE_MAX_IN_PROGRESS: "3" });
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
    expect(refused.headers.get("x-tiergate-shed")).toBe("gate");
    const error = ((await refused.json()) as { error: { code: string; request_id: string } }).error;
    expect(error.code).toBe("overloaded");
    expect(error.request_id).toBe(refused.headers.get("x-request-id"));
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(pool.chatCalls).toBe(2);
    // Nothing in progress: the same bad body is now parsed and refused as bad input.
    expect((await ask("{ not json")).status).toBe(400);
  });

  it("passes on the pool's server-timing and appends the isolate's own time", async () => {
    pool.mode = { kind: "json", delayMs: 0 };
    pool.serverTiming = "pool;dur=7";
    const answer = await ask(question(`timed ${crypto.randomUUID()}`));
    pool.serverTiming = undefined;
    expect(answer.status).toBe(200);
    expect(answer.headers.get("server-timing")).toMatch(/^pool;dur=7, edge;dur=\d+$/);
  });
});

describe("adaptive concurrency limit and the pool's reported load", () => {
  it("does not cut for latency while the pool reports most of its slots free, and does once it fills", () => {
    const { limit, clock } = limiter({ initialLimit: 100 });
    const round = (latencyMs: number, utilization: number) => {
      const permits = [];
      for (let p = limit.tryAcquire(); p; p = limit.tryAcquire()) permits.push(p);
      clock.now += latencyMs;
      for (const permit of permits) permit.release(false, utilization);
    };
    round(2, 0.1);
    const before = limit.limit;
    for (let i = 0; i < 5; i++) round(200, 0.1);
    expect(limit.limit).toBeGreaterThanOrEqual(before);
    const held = limit.limit;
    round(200, 0.6);
    expect(limit.limit).toBeLessThan(held);
  });

  it("does not grow for a spare pool while the isolate itself is queueing", () => {
    const gate = { congested: true };
    const { limit, clock } = limiter({ initialLimit: 50, congested: () => gate.congested });
    const round = () => {
      const permits = [];
      for (let p = limit.tryAcquire(); p; p = limit.tryAcquire()) permits.push(p);
      clock.now += 2;
      for (const permit of permits) permit.release(false, 0.1);
    };
    for (let i = 0; i < 5; i++) round();
    expect(limit.limit).toBe(50);
    gate.congested = false;
    round();
    expect(limit.limit).toBeGreaterThan(50);
  });
});
