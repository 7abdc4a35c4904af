import { describe, expect, it } from "vitest";
import type { DashboardStats } from "../../../workers/pool/dashboard/api-types.ts";
import {
  driftPanel,
  errorPanel,
  labelOf,
  panel,
  reasonPanels,
  tierPanel,
  withGaps,
} from "../../../workers/pool/dashboard/series.ts";

const minute = 60_000;
const t0 = Date.UTC(2026, 11, 6, 10, 0);

function point(t: number, overrides: Partial<DashboardStats["series"][number]> = {}) {
  return {
    t,
    requests: 10,
    users: 1,
    latency_ms: [1, 2, 3],
    ttft_ms: [1, 2, 3],
    cache_hits: 5,
    errors: 0,
    shed: 0,
    fallbacks: 0,
    fallback_reasons: {},
    ...overrides,
  };
}

function stats(overrides: Partial<DashboardStats> = {}): DashboardStats {
  return {
    window: "1h",
    bucketSeconds: 60,
    fromMs: t0 - 60 * minute,
    toMs: t0,
    series: [],
    tiers: [],
    drift: [],
    ...overrides,
  };
}

describe("dashboard series", () => {
  it("breaks a line across a gap instead of drawing over time with no data", () => {
    const points = [
      { x: t0, y: 1 },
      { x: t0 + minute, y: 2 },
      { x: t0 + 51 * minute, y: 3 }, // 50 minutes later
    ];
    expect(withGaps(points, minute)).toEqual([
      { x: t0, y: 1 },
      { x: t0 + minute, y: 2 },
      { x: t0 + 2 * minute, y: null },
      { x: t0 + 51 * minute, y: 3 },
    ]);
  });

  it("sorts points by time so a curve never loops backwards, keeping one value per time", () => {
    const points = [
      { x: t0 + 2 * minute, y: 3 },
      { x: t0, y: 1 },
      { x: t0 + minute, y: 2 },
      { x: t0 + minute, y: 5 },
    ];
    const xs = withGaps(points, minute).map((p) => p.x);
    expect(xs).toEqual([t0, t0 + minute, t0 + 2 * minute]);
    expect(withGaps(points, minute)[1]).toEqual({ x: t0 + minute, y: 5 });
  });

  it("names an empty group key in the legend", () => {
    expect(labelOf("")).toBe("(none)");
    const p = tierPanel(
      stats({
        tiers: [
          { t: t0, tier: "", model: "m", requests: 3, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
          {
            t: t0,
            tier: "small",
            model: "m",
            requests: 2,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: 0,
          },
        ],
      }),
      (q) => q.requests,
    );
    expect(p.series.map((s) => s.label)).toEqual(["(none)", "small"]);
    expect(p.series.every((s) => s.label.trim() !== "")).toBe(true);
  });

  it("marks panels of an empty window as empty and keeps the window as the x range", () => {
    const empty = stats();
    for (const p of [
      driftPanel(empty),
      errorPanel(empty),
      reasonPanels(empty).fallbacks,
      tierPanel(empty, () => 1),
    ]) {
      expect(p.empty).toBe(true);
      expect(p.xMin).toBe(empty.fromMs);
      expect(p.xMax).toBe(empty.toMs);
    }
    expect(panel(empty, [{ label: "a", points: [] }]).series).toEqual([]);
  });

  it("a drift panel with scores spans the window, not 00:00 at every tick", () => {
    const p = driftPanel(
      stats({
        drift: [
          { t: t0 - 10 * minute, tier: "small", score: 0.1 },
          { t: t0 - 5 * minute, tier: "small", score: 0.2 },
        ],
      }),
    );
    expect(p.empty).toBe(false);
    expect(p.xMax - p.xMin).toBe(60 * minute);
    expect(p.series[0]?.data.map((d) => d.y)).toEqual([0.1, 0.2]);
  });

  it("keeps RAG abstentions out of the fallback panel", () => {
    const s = stats({
      series: [
        point(t0 - minute, { fallback_reasons: { no_context: 2, upstream_timeout: 1, below_threshold: 1 } }),
      ],
    });
    const { fallbacks, abstentions } = reasonPanels(s);
    expect(fallbacks.series.map((x) => x.label)).toEqual(["upstream_timeout"]);
    expect(abstentions.series.map((x) => x.label)).toEqual(["below_threshold", "no_context"]);
    expect(abstentions.series[1]?.data[0]?.y).toBeCloseTo(0.2);
  });

  it("draws error and shed rates per bucket", () => {
    const p = errorPanel(stats({ series: [point(t0 - minute, { errors: 4, shed: 3 })] }));
    expect(p.series.map((x) => [x.label, x.data[0]?.y])).toEqual([
      ["errors (5xx)", 0.4],
      ["shed (503)", 0.3],
    ]);
  });
});
