import { describe, expect, it } from "vitest";
import { cpuComparisons } from "../../bench/edge-peers.ts";
import { cpuSnapshot, cpuUse, processTree } from "../../bench/process-cpu.ts";

describe("cpuUse", () => {
  it("turns clock ticks into microseconds per request and cores", () => {
    const use = cpuUse({
      before: { edge: 100, pool: 50, idle: 7 },
      after: { edge: 130, pool: 60, idle: 7 },
      requests: 1_000,
      seconds: 2,
    });
    // 30 ticks = 0.3 s of CPU over 1,000 requests and 2 s.
    expect(use.us_per_request).toEqual({ edge: 300, pool: 100 });
    expect(use.cores).toEqual({ edge: 0.15, pool: 0.05 });
  });
});

describe("cpuSnapshot", () => {
  it("reads this process's CPU time and counts a vanished pid as nothing", () => {
    const snapshot = cpuSnapshot({ self: () => processTree(process.pid), gone: () => [2 ** 22 + 17] });
    expect(snapshot.self).toBeGreaterThanOrEqual(0);
    expect(snapshot.gone).toBe(0);
  });
});

describe("cpuComparisons", () => {
  const rows: Record<string, { cpu: { us_per_request: Record<string, number> } }> = {
    "miss-saturation": {
      cpu: { us_per_request: { edge: 800, pool: 700, "upstash-bridge": 100, redis: 20 } },
    },
    "hit-saturation": { cpu: { us_per_request: { edge: 300 } } },
    "portkey-nocache-saturation": { cpu: { us_per_request: { portkey: 600, upstream: 50 } } },
  };
  const compare = () =>
    cpuComparisons(
      (name) => rows[name],
      (n) => Math.round(n * 100) / 100,
    );

  it("sums a gateway's own groups and leaves the upstream and generator out", () => {
    expect(compare()).toMatchObject({
      miss_edge_cpu_us: 800,
      miss_path_cpu_us: 1_620,
      hit_path_cpu_us: 300,
      portkey_cpu_us: 600,
      miss_edge_per_core_vs_portkey: 0.75,
      miss_path_per_core_vs_portkey: 0.37,
      hit_path_per_core_vs_portkey: 2,
    });
  });

  it("leaves out a figure whose row was not measured", () => {
    expect(compare()).not.toHaveProperty("litellm_cpu_us");
    expect(compare()).not.toHaveProperty("miss_edge_per_core_vs_litellm");
  });
});
