// Pure data shaping for the dashboard's charts. Bundled into the browser script (client.ts), so it
// imports nothing that needs a server runtime.
import { abstentionRules } from "../../retrieval/abstention-rules.ts";
import type { DashboardStats } from "./api-types.ts";

/** One point of a line; `y: null` breaks the line (a gap with no data is not drawn across). */
export type SeriesPoint = { x: number; y: number | null };

/** One named series of a chart. */
export interface Series {
  label: string;
  data: SeriesPoint[];
}

/** What a panel draws: its series over a fixed time range, or a "no data" message when empty. */
export interface Panel {
  series: Series[];
  /** The x axis covers the whole window, whatever the data covers. */
  xMin: number;
  xMax: number;
  /** True when no series holds a single value: the panel says so instead of drawing empty axes. */
  empty: boolean;
}

/** The legend text of a group key: an empty key (events without a tier, say) gets a readable name. */
export function labelOf(key: string): string {
  return key === "" ? "(none)" : key;
}

/**
 * Points sorted by time (the same time twice keeps the last), with a `null` inserted wherever two
 * neighbours are more than 1.5 steps apart, so a line is broken across a gap instead of drawn straight
 * over time that had no data, and never loops backwards.
 */
export function withGaps(points: readonly { x: number; y: number }[], stepMs: number): SeriesPoint[] {
  const byTime = new Map<number, number>();
  for (const p of points) if (Number.isFinite(p.x) && Number.isFinite(p.y)) byTime.set(p.x, p.y);
  const sorted = [...byTime].sort((a, b) => a[0] - b[0]);
  const out: SeriesPoint[] = [];
  let previous: number | undefined;
  for (const [x, y] of sorted) {
    if (previous !== undefined && x - previous > stepMs * 1.5) out.push({ x: previous + stepMs, y: null });
    out.push({ x, y });
    previous = x;
  }
  return out;
}

/** A panel over the stats' window from raw per-series points. */
export function panel(
  stats: Pick<DashboardStats, "fromMs" | "toMs" | "bucketSeconds">,
  series: { label: string; points: { x: number; y: number }[] }[],
  stepMs = stats.bucketSeconds * 1000,
): Panel {
  const shaped = series
    .map((s) => ({ label: labelOf(s.label), data: withGaps(s.points, stepMs) }))
    .filter((s) => s.data.length > 0);
  return {
    series: shaped,
    xMin: stats.fromMs,
    xMax: stats.toMs,
    empty: shaped.every((s) => s.data.every((p) => p.y === null)),
  };
}

type StatsPoint = DashboardStats["series"][number];

/** A reason's share of a bucket's requests (0 when the bucket had none). */
function share(count: number | undefined, requests: number): number {
  return requests > 0 ? (count ?? 0) / requests : 0;
}

/** The fallback reasons and abstention rules seen in the window, each sorted. */
export function reasonKinds(series: readonly StatsPoint[]): { fallbacks: string[]; abstentions: string[] } {
  const reasons = [...new Set(series.flatMap((p) => Object.keys(p.fallback_reasons)))].sort();
  return {
    fallbacks: reasons.filter((r) => !abstentionRules.has(r)),
    abstentions: reasons.filter((r) => abstentionRules.has(r)),
  };
}

/** Per-reason rate panels: fallbacks (failures) and abstentions (RAG declining on purpose) apart. */
export function reasonPanels(stats: DashboardStats): { fallbacks: Panel; abstentions: Panel } {
  const kinds = reasonKinds(stats.series);
  const rates = (reasons: string[]) =>
    reasons.map((reason) => ({
      label: reason,
      points: stats.series.map((p) => ({ x: p.t, y: share(p.fallback_reasons[reason], p.requests) })),
    }));
  return {
    fallbacks: panel(stats, rates(kinds.fallbacks)),
    abstentions: panel(stats, rates(kinds.abstentions)),
  };
}

/** Error (5xx) and shed (503) rates per bucket. */
export function errorPanel(stats: DashboardStats): Panel {
  return panel(stats, [
    { label: "errors (5xx)", points: stats.series.map((p) => ({ x: p.t, y: share(p.errors, p.requests) })) },
    { label: "shed (503)", points: stats.series.map((p) => ({ x: p.t, y: share(p.shed, p.requests) })) },
  ]);
}

/** Drift scores per tier. Scores come at the drift job's cadence, not per bucket: each tier's gaps use it. */
export function driftPanel(stats: DashboardStats): Panel {
  const tiers = [...new Set(stats.drift.map((d) => d.tier))].sort();
  const bucketMs = stats.bucketSeconds * 1000;
  const shaped = tiers.map((tier) => {
    const points = stats.drift.filter((d) => d.tier === tier).map((d) => ({ x: d.t, y: d.score }));
    const step = Math.max(bucketMs, medianStep(points.map((p) => p.x)));
    return { label: labelOf(tier), data: withGaps(points, step) };
  });
  return { ...panel(stats, []), series: shaped, empty: shaped.length === 0 };
}

/** The median distance between sorted times (0 with fewer than two). */
function medianStep(times: number[]): number {
  const sorted = [...new Set(times)].sort((a, b) => a - b);
  const steps = sorted.slice(1).map((t, i) => t - (sorted[i] as number));
  if (steps.length === 0) return 0;
  return steps.sort((a, b) => a - b)[Math.floor(steps.length / 2)] as number;
}

/** Per-tier sums per bucket (requests or cost), one series per tier. */
export function tierPanel(
  stats: DashboardStats,
  value: (p: DashboardStats["tiers"][number]) => number,
): Panel {
  const tiers = [...new Set(stats.tiers.map((p) => p.tier))].sort();
  return panel(
    stats,
    tiers.map((tier) => {
      const byBucket = new Map<number, number>();
      for (const p of stats.tiers)
        if (p.tier === tier) byBucket.set(p.t, (byBucket.get(p.t) ?? 0) + value(p));
      return { label: tier, points: [...byBucket].map(([x, y]) => ({ x, y })) };
    }),
  );
}
