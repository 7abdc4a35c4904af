import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import {
  RegionAdmission,
  type RegionAdmissionConfig,
  type RegionTicket,
} from "../../../edge/services/region-admission.ts";
import { formatPoolLoad, parsePoolLoad } from "../../../shared/pool-load.ts";
import { chatInit, FakePool, unitEnv } from "./fake-pool.ts";

/** A pool's answer as the region limiter reads it. */
const answer = (status: number, load?: string) =>
  new Response(null, { status, headers: load ? { "x-tiergate-pool-load": load } : {} });

/** Region shares on a hand-driven clock (ms). */
function shares(config: Partial<RegionAdmissionConfig> = {}) {
  const clock = { now: 0 };
  const admission = new RegionAdmission(
    { initialLimit: 20, minLimit: 1, maxLimit: 500, ...config },
    () => clock.now,
  );
  /** Takes every ticket the share allows for region "r". */
  const fill = () => {
    const tickets: RegionTicket[] = [];
    for (let t = admission.tryEnter("r"); t; t = admission.tryEnter("r")) tickets.push(t);
    return tickets;
  };
  return { admission, clock, fill };
}

describe("pool load header", () => {
  it("round-trips and refuses malformed values", () => {
    expect(parsePoolLoad(formatPoolLoad({ inFlight: 3, limit: 256 }))).toEqual({ inFlight: 3, limit: 256 });
    for (const bad of [null, "", "3", "/4", "a/4", "3/0", "-1/4", "3/x"])
      expect(parsePoolLoad(bad)).toBeNull();
  });
});

describe("per-region share of one isolate", () => {
  it("admits up to the share and refuses past it, per region", () => {
    const { admission, fill } = shares({ initialLimit: 3 });
    const tickets = fill();
    expect(tickets).toHaveLength(3);
    expect(admission.tryEnter("other")).not.toBeNull();
    tickets[0]?.done(answer(200, "1/256"));
    tickets[0]?.done(answer(200, "1/256"));
    expect(admission.stats("r")).toMatchObject({ inFlight: 2, shedHere: 1 });
  });

  it("grows while the pool reports spare capacity and the share is in use, up to the max", () => {
    const { admission, fill } = shares();
    for (let round = 0; round < 5; round++) for (const t of fill()) t.done(answer(200, "10/256"));
    expect(admission.stats("r").limit).toBeGreaterThan(20);
    for (let round = 0; round < 500; round++) for (const t of fill()) t.done(answer(200, "10/256"));
    expect(admission.stats("r").limit).toBe(500);
  });

  it("does not grow while the share is not in use", () => {
    const { admission } = shares();
    for (let i = 0; i < 100; i++) admission.tryEnter("r")?.done(answer(200, "1/256"));
    expect(admission.stats("r").limit).toBe(20);
  });

  it("scales the share by target/utilization when the pool nears its cap, once per interval", () => {
    const { admission, clock, fill } = shares({ initialLimit: 100, targetUtilization: 0.8 });
    for (const t of fill()) t.done(answer(200, "250/250"));
    expect(admission.stats("r").limit).toBe(80);
    clock.now += 100;
    for (const t of fill()) t.done(answer(200, "250/250"));
    expect(admission.stats("r").limit).toBe(64);
  });

  it("on a shed (503) halves the share and pauses the region, then admits the cut share", () => {
    const { admission, clock, fill } = shares({ initialLimit: 40, pauseMs: 250 });
    const inFlight = admission.tryEnter("r");
    admission.tryEnter("r")?.done(answer(503, "256/256"));
    expect(admission.stats("r").limit).toBe(20);
    clock.now += 249;
    expect(admission.tryEnter("r")).toBeNull();
    inFlight?.done(answer(503, "256/256"));
    expect(admission.stats("r").limit).toBe(10);
    clock.now += 250;
    expect(fill()).toHaveLength(10);
  });

  it("a failure without an answer neither pauses nor cuts (the circuit breaker judges those)", () => {
    const { admission } = shares();
    admission.tryEnter("r")?.done(null);
    expect(admission.stats("r")).toMatchObject({ limit: 20, pausedUntil: 0 });
  });

  it("isolates sharing one pool converge to fair shares that keep it near its target, below its cap", () => {
    const cap = 200;
    const clock = { now: 0 };
    const isolates = [5, 20, 60, 150].map(
      (initialLimit) => new RegionAdmission({ initialLimit, minLimit: 1, maxLimit: 1_000 }, () => clock.now),
    );
    let refused = 0;
    let peak = 0;
    for (let round = 0; round < 400; round++) {
      clock.now += 50;
      const held = isolates.map((isolate) => {
        const tickets: RegionTicket[] = [];
        for (let t = isolate.tryEnter("r"); t; t = isolate.tryEnter("r")) tickets.push(t);
        return tickets;
      });
      const offered = held.reduce((sum, tickets) => sum + tickets.length, 0);
      if (round >= 200) peak = Math.max(peak, offered);
      let admitted = 0;
      for (const ticket of held.flat()) {
        if (admitted >= cap) {
          if (round >= 200) refused++;
          ticket.done(answer(503, `${cap}/${cap}`));
          continue;
        }
        admitted++;
        ticket.done(answer(200, `${Math.min(offered, cap)}/${cap}`));
      }
    }
    const limits = isolates.map((isolate) => isolate.stats("r").limit);
    const total = limits.reduce((a, b) => a + b, 0);
    expect(refused).toBe(0);
    expect(peak).toBeLessThanOrEqual(cap);
    expect(total).toBeGreaterThan(cap * 0.5);
    expect(Math.max(...limits) / Math.min(...limits)).toBeLessThan(2);
  });
});

describe("per-region admission in the pool client (in process, fake pools)", () => {
  const app = createEdgeApp();
  const first = new FakePool();
  const second = new FakePool();
  let env: Record<string, string> = {};

  beforeAll(async () => {
    env = unitEnv(`a=${await first.start()},b=${await second.start()}`);
  });
  afterAll(async () => {
    await first.stop();
    await second.stop();
  });

  const ask = (content: string) =>
    app.request(
      "/v1/chat/completions",
      chatInit({ model: "auto", temperature: 0, messages: [{ role: "user", content }] }),
      env,
    );

  it("stops forwarding to a region that sheds, goes to a healthy one, and sheds at the edge when none is left", async () => {
    // Warm-up: region b answers slower, so a is tried first below.
    second.mode = { kind: "json", delayMs: 400 };
    expect((await ask("a cached question")).status).toBe(200);
    expect((await ask("warm-up")).status).toBe(200);
    expect(second.chatCalls).toBe(1);
    second.mode = { kind: "json" };

    first.mode = { kind: "status", status: 503 };
    first.poolLoad = "256/256";
    first.chatCalls = 0;
    second.chatCalls = 0;
    const moved = await ask("first region sheds");
    expect(moved.status).toBe(200);
    expect(moved.headers.get("x-tiergate-region")).toBe("b");
    expect([first.chatCalls, second.chatCalls]).toEqual([1, 1]);
    // While the first region is paused, new forwards go straight to the second.
    const next = await ask("first region paused");
    expect(next.headers.get("x-tiergate-region")).toBe("b");
    expect(first.chatCalls).toBeLessThanOrEqual(1);

    second.mode = { kind: "status", status: 503 };
    second.poolLoad = "256/256";
    await ask("both shed now");
    const callsBefore = first.chatCalls + second.chatCalls;
    const shed = await ask("every region paused");
    expect(shed.status).toBe(503);
    expect(shed.headers.get("retry-after")).toBe("1");
    const error = ((await shed.json()) as { error: { code: string; request_id: string } }).error;
    expect(error.code).toBe("overloaded");
    expect(shed.headers.get("x-tiergate-shed")).toBe("regions");
    expect(error.request_id).toBe(shed.headers.get("x-request-id"));
    // Shed before any forward, while hits are still served from the cache.
    expect(first.chatCalls + second.chatCalls).toBe(callsBefore);
    const hit = await ask("a cached question");
    expect(hit.status).toBe(200);
    expect(hit.headers.get("x-cache")).toBe("HIT");
  });
});
