import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import type { RoutingTable } from "../../../workers/registry/types.ts";
import { Balancer, defaultBalancerOptions } from "../../../workers/router/balancer.ts";
import { type FaultProxy, startFaultProxy } from "../../stack/fault-proxy/client.ts";
import { context, endpoint, modelServerRoot, testRouter, tier } from "./harness.ts";

// Two fault proxies in front of the one model server stand for two replicas of a tier.
let flaky: FaultProxy;
let healthy: FaultProxy;

beforeAll(async () => {
  [flaky, healthy] = await Promise.all([startFaultProxy(modelServerRoot), startFaultProxy(modelServerRoot)]);
});
afterAll(async () => {
  await Promise.all([flaky?.stop(), healthy?.stop()]);
});
beforeEach(async () => {
  await Promise.all([
    flaky.set({ mode: "pass" }),
    healthy.set({ mode: "pass" }),
    flaky.resetStats(),
    healthy.resetStats(),
  ]);
});

/** Medium has a heavily weighted flaky replica (so it is tried first) and a healthy one; large is direct. */
function table(mediumTimeoutMs = 20_000): RoutingTable {
  return {
    source: "env",
    tiers: [
      tier(
        "medium",
        [
          endpoint("m-flaky", flaky.url, "tiergate-medium", 1_000),
          endpoint("m-ok", healthy.url, "tiergate-medium", 0.001),
        ],
        mediumTimeoutMs,
      ),
      tier("large", [endpoint("l-0", modelServerRoot, "tiergate-large")]),
    ],
  };
}

const ask = (stream = false): ChatCompletionRequest => ({
  model: "medium",
  max_tokens: 4,
  temperature: 0,
  stream,
  messages: [{ role: "user", content: "Say hi" }],
});

describe("failover inside a tier and across tiers", () => {
  it("a killed endpoint (connection refused) fails over to the other endpoint", async () => {
    await flaky.set({ mode: "refuse" });
    const router = testRouter(table());
    const result = await router.complete(ask(), context());
    expect(result.served).toMatchObject({
      tier: "medium",
      endpoint: "m-ok",
      fallbackReason: "m-flaky:connection",
    });
    expect(result.completion.choices[0]?.message.content).toBeTruthy();
  });

  it("when every endpoint of the tier is dead, the next tier answers; when all are dead, the rules do", async () => {
    await Promise.all([flaky.set({ mode: "refuse" }), healthy.set({ mode: "status", status: 503 })]);
    const router = testRouter(table());
    const next = await router.complete(ask(), context());
    expect(next.served.tier).toBe("large");
    expect(next.served.fallbackReason).toMatch(
      /m-flaky:connection.*m-ok:server>?$|m-ok:server.*m-flaky:connection/,
    );

    const deadEverywhere: RoutingTable = {
      source: "env",
      tiers: [tier("medium", [endpoint("m-flaky", flaky.url, "tiergate-medium")])],
    };
    const last = await testRouter(deadEverywhere).complete(
      { ...ask(), messages: [{ role: "user", content: "hello" }] },
      context(),
    );
    expect(last.served).toMatchObject({ tier: "rules", provider: "rules" });
    expect(last.served.fallbackReason).toMatch(/m-flaky:connection.*>rules$/);
    expect(last.completion.choices[0]?.message.content).toBe("Hello! How can I help?");
  });

  it("a slow endpoint times out after the tier's timeout and the other endpoint answers", async () => {
    await flaky.set({ mode: "delay", ms: 10_000 });
    const router = testRouter(table(1_500));
    const result = await router.complete(ask(), context());
    expect(result.served).toMatchObject({ endpoint: "m-ok", fallbackReason: "m-flaky:timeout" });
  });

  it("a stream cut before its first token fails over invisibly: the caller gets one clean stream", async () => {
    await flaky.set({ mode: "cut", afterBytes: 0 });
    const router = testRouter(table());
    const { served, stream } = await router.stream(ask(true), context());
    expect(served.endpoint).toBe("m-ok");
    expect(served.fallbackReason).toMatch(/^m-flaky:(stream_cut|connection)$/);
    const chunks = [...stream.head];
    for await (const chunk of stream.rest) chunks.push(chunk);
    expect(chunks.some((c) => c.choices.some((choice) => choice.finish_reason))).toBe(true);
    expect(await flaky.requests()).toBe(1);
  });

  it("a stream cut after its first token is not retried: reading on throws instead of ending quietly", async () => {
    await flaky.set({ mode: "cut", afterBytes: 700 });
    const router = testRouter(table());
    const { served, stream } = await router.stream({ ...ask(true), max_tokens: 24 }, context());
    expect(served.endpoint).toBe("m-flaky");
    expect(stream.head.some((c) => c.choices.some((choice) => (choice.delta.content ?? "").length > 0))).toBe(
      true,
    );
    const drain = async () => {
      for await (const _ of stream.rest) {
        // read to the end
      }
    };
    await expect(drain()).rejects.toThrow();
  });
});

describe("circuit breaker on a failing endpoint", () => {
  it("opens after consecutive failures, stops sending traffic, then half-opens and closes on a good probe", async () => {
    await flaky.set({ mode: "status", status: 500 });
    // A manual clock: the cool-down passes when the test says so, not after wall-clock time.
    let now = Date.now();
    const options = { ...defaultBalancerOptions, failureThreshold: 2, cooldownMs: 60_000 };
    const router = testRouter(table(), { balancer: options }, new Balancer(options, Math.random, () => now));
    const spec = table().tiers[0]?.endpoints[0];
    if (!spec) throw new Error("no endpoint");
    const breaker = router.balancer.statsOf(spec).breaker;

    for (let i = 0; i < 2; i++)
      expect((await router.complete(ask(), context())).served.endpoint).toBe("m-ok");
    expect(breaker.state).toBe("open");
    const seenWhenOpened = await flaky.requests();
    expect(seenWhenOpened).toBe(2);
    for (let i = 0; i < 2; i++) {
      const result = await router.complete(ask(), context());
      expect(result.served).toMatchObject({ endpoint: "m-ok", fallbackReason: "" });
    }
    expect(await flaky.requests()).toBe(seenWhenOpened); // open: not even tried

    // Half-open with the endpoint still failing: one probe, then open again.
    now += 60_000;
    expect(breaker.state).toBe("half-open");
    await router.complete(ask(), context());
    expect(await flaky.requests()).toBe(seenWhenOpened + 1);
    expect(breaker.state).toBe("open");

    // Half-open with the endpoint healed: the probe succeeds and the circuit closes.
    await flaky.set({ mode: "pass" });
    now += 60_000;
    expect(breaker.state).toBe("half-open");
    const probe = await router.complete(ask(), context());
    expect(probe.served).toMatchObject({ endpoint: "m-flaky", fallbackReason: "" });
    expect(breaker.state).toBe("closed");
  });
});
