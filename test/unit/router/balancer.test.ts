import { describe, expect, it } from "vitest";
import type { EndpointSpec } from "../../../workers/providers/types.ts";
import { Balancer, defaultBalancerOptions } from "../../../workers/router/balancer.ts";

const endpoint = (id: string, weight: number): EndpointSpec => ({
  id,
  provider: "openai-compatible",
  baseURL: "http://127.0.0.1:1/v1",
  apiKey: "",
  model: "m",
  weight,
  metricsURL: "",
  completions: true,
});

/** A seeded generator, so the counts are reproducible. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("power-of-two-choices balancer", () => {
  it("shares traffic by weight between equally healthy endpoints", () => {
    const balancer = new Balancer(defaultBalancerOptions, seeded(7));
    const endpoints = [endpoint("a", 3), endpoint("b", 1)];
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 4_000; i++) {
      const chosen = balancer.pick(endpoints);
      if (!chosen) throw new Error("no endpoint");
      balancer.begin(chosen);
      balancer.end(chosen, "ok", 100 + (i % 7)); // equal latency, a little noise
      counts[chosen.id as "a" | "b"]++;
    }
    expect(counts.a / 4_000).toBeGreaterThan(0.7);
    expect(counts.a / 4_000).toBeLessThan(0.8);
  });

  it("moves traffic away from a slow endpoint and from one with many outstanding requests", () => {
    const balancer = new Balancer(defaultBalancerOptions, seeded(11));
    const fast = endpoint("fast", 1);
    const slow = endpoint("slow", 1);
    balancer.begin(fast);
    balancer.end(fast, "ok", 10);
    balancer.begin(slow);
    balancer.end(slow, "ok", 1_000);
    let slowPicks = 0;
    for (let i = 0; i < 1_000; i++) if (balancer.pick([fast, slow])?.id === "slow") slowPicks++;
    // Only when both draws land on the slow one (about a quarter of the time).
    expect(slowPicks).toBeLessThan(320);

    const busy = new Balancer(defaultBalancerOptions, seeded(3));
    const a = endpoint("a", 1);
    const b = endpoint("b", 1);
    for (let i = 0; i < 5; i++) busy.begin(a);
    let aPicks = 0;
    for (let i = 0; i < 1_000; i++) if (busy.pick([a, b])?.id === "a") aPicks++;
    expect(aPicks).toBeLessThan(320);
  });

  it("skips endpoints whose circuit is open and prefers untried ones", () => {
    const balancer = new Balancer({ ...defaultBalancerOptions, failureThreshold: 1 }, seeded(5));
    const a = endpoint("a", 1);
    const b = endpoint("b", 1);
    balancer.begin(a);
    balancer.end(a, "failed", 5);
    for (let i = 0; i < 50; i++) expect(balancer.pick([a, b])?.id).toBe("b");
    balancer.begin(b);
    balancer.end(b, "failed", 5);
    expect(balancer.pick([a, b])).toBeUndefined();
    const c = endpoint("c", 1);
    for (let i = 0; i < 20; i++) expect(balancer.pick([c, endpoint("d", 1)], new Set(["c"]))?.id).toBe("d");
  });
});
