import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoutingTable } from "../../../workers/registry/types.ts";
import { Balancer, defaultBalancerOptions } from "../../../workers/router/balancer.ts";
import { type FaultProxy, startFaultProxy } from "../../stack/fault-proxy/client.ts";
import { context, endpoint, modelServerRoot, testRouter, tier } from "./harness.ts";

let heavy: FaultProxy;
let light: FaultProxy;
beforeAll(async () => {
  [heavy, light] = await Promise.all([startFaultProxy(modelServerRoot), startFaultProxy(modelServerRoot)]);
});
afterAll(async () => {
  await Promise.all([heavy?.stop(), light?.stop()]);
});

describe("weighted balance within a tier", () => {
  it("sends traffic to two healthy endpoints in proportion to their weights (3:1, ±10 points)", async () => {
    const table: RoutingTable = {
      source: "env",
      tiers: [
        tier("embed", [
          endpoint("e-heavy", heavy.url, "tiergate-embed", 3),
          endpoint("e-light", light.url, "tiergate-embed", 1),
        ]),
      ],
    };
    // Latency noise between two proxies of one busy CPU server would otherwise steer traffic (by design):
    // here the second choice wins only when it is 5× cheaper, so the split shows the weights.
    const router = testRouter(table, {}, new Balancer({ ...defaultBalancerOptions, preferFirstBelow: 0.2 }));
    const total = 200;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        next++;
        const { served } = await router.embed(
          { model: "tiergate-embed", input: `balance ${next}` },
          context(),
        );
        expect(served.fallbackReason).toBe("");
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    const [toHeavy, toLight] = await Promise.all([heavy.requests(), light.requests()]);
    expect(toHeavy + toLight).toBe(total);
    expect(toHeavy / total).toBeGreaterThan(0.65);
    expect(toHeavy / total).toBeLessThan(0.85);
  });
});
