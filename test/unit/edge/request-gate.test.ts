import { describe, expect, it } from "vitest";
import { RequestGate, type RequestGateConfig } from "../../../edge/services/request-gate.ts";

/** A gate on a hand-driven clock (ms), windows of 50 ms, target 50 ms, release after 1 s of calm. */
function gate(config: Partial<RequestGateConfig> = {}) {
  const clock = { now: 0 };
  const requests = new RequestGate(
    {
      initialBound: 40,
      minBound: 8,
      maxBound: 256,
      targetMs: 50,
      intervalMs: 50,
      releaseMs: 1_000,
      ...config,
    },
    () => clock.now,
  );
  /** Admits up to `count` requests now; returns how many got in. */
  const enter = (count: number) => {
    let entered = 0;
    for (let i = 0; i < count; i++) if (requests.tryEnter()) entered++;
    return entered;
  };
  /**
   * One window: `count` requests enter and reach their forward after `times[i % times.length]` ms,
   * the last one as the window's time is up (which closes it), then all leave.
   */
  const window = (count: number, times: number[]) => {
    const entered = enter(count);
    const time = (i: number) => times[i % times.length] ?? 0;
    for (let i = 0; i < entered - 1; i++) requests.observe(time(i));
    clock.now += 50;
    requests.observe(time(entered - 1));
    for (let i = 0; i < entered; i++) requests.leave();
    return entered;
  };
  return { requests, clock, enter, window };
}

describe("request gate: holding the bound", () => {
  it("admits a burst of 200 on a cold isolate, past its bound", () => {
    const { requests, enter } = gate();
    expect(enter(200)).toBe(200);
    expect(requests.stats()).toMatchObject({ inProgress: 200, shed: 0 });
    expect(requests.holding).toBe(false);
  });

  it("keeps the bound after a queue, also through windows whose requests are in time", () => {
    const { requests, window, enter } = gate();
    window(40, [120]);
    expect(requests.holding).toBe(true);
    const bound = requests.bound;
    expect(bound).toBeLessThan(40);
    // In time again, but the isolate keeps refusing past its bound: no flood up to the max.
    for (let i = 0; i < 5; i++) window(200, [5]);
    expect(requests.holding).toBe(true);
    expect(enter(300)).toBe(requests.bound);
    expect(requests.bound).toBeLessThan(256);
    expect(requests.stats().shed).toBeGreaterThan(0);
  });

  it("lifts the bound once the isolate went releaseMs without a queue or a refusal, then admits a burst", () => {
    const { requests, window, enter, clock } = gate();
    window(40, [120]);
    expect(requests.holding).toBe(true);
    // Light load, in time, nobody refused, for over a second.
    for (let i = 0; i < 25; i++) window(3, [5]);
    clock.now += 100;
    expect(enter(200)).toBe(200);
    expect(requests.holding).toBe(false);
  });

  it("does not lift the bound before releaseMs of calm", () => {
    const { requests, window, enter, clock } = gate();
    window(40, [120]);
    clock.now += 500;
    expect(enter(200)).toBe(requests.bound);
    expect(requests.holding).toBe(true);
  });
});

describe("request gate: judging a window", () => {
  it("counts a queue when more than half the window's requests were late, even if the fastest was not", () => {
    const { requests, window } = gate();
    window(40, [80, 90, 5]);
    expect(requests.congested).toBe(true);
    expect(requests.bound).toBe(32);
  });

  it("does not cut when at most half were late, and grows only when under a tenth were", () => {
    const { requests, window } = gate();
    window(40, [5, 80]);
    expect(requests.congested).toBe(false);
    expect(requests.bound).toBe(40);
    window(40, [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 80]);
    expect(requests.bound).toBeGreaterThan(40);
  });

  it("cuts by half when even the fastest waited several times the target", () => {
    const { requests, window } = gate();
    window(40, [400]);
    expect(requests.bound).toBe(20);
  });

  it("gives no verdict on a window of fewer than four requests", () => {
    const { requests, window } = gate();
    window(3, [500]);
    expect(requests.congested).toBe(false);
    expect(requests.holding).toBe(false);
    expect(requests.bound).toBe(40);
  });
});
