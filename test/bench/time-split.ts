/**
 * Where the 2xx answers of a load run spent their time, from the `server-timing` the edge sends
 * (`pool;dur=<ms>` passed on from the pool, `edge;dur=<ms>` from the isolate's entry to its response):
 * - `before_isolate_ms`: the client's total minus the edge's part: connecting, workerd accepting and
 *   parsing the request and waiting to hand it to the isolate, and writing the answer back;
 * - `isolate_ms`: the edge's part minus the pool's: the isolate's own work and its waits for the event
 *   loop, Redis and the network to the pool;
 * - `pool_ms`: the pool worker's time, from its admission to its answer's headers.
 * Clocks inside workerd stand still between I/O events, so the edge's part counts from the I/O event
 * that delivered the request; its waits before that are in `before_isolate_ms`.
 */

/** One answer's parts (ms). */
export interface TimeSample {
  total: number;
  edge: number;
  pool: number;
}

/** The `dur` of metric `name` in a Server-Timing value, or undefined. */
export function timingOf(header: string | null, name: string): number | undefined {
  if (!header) return undefined;
  for (const entry of header.split(",")) {
    const [metric, ...params] = entry.trim().split(";");
    if (metric !== name) continue;
    const dur = params.find((p) => p.trim().startsWith("dur="));
    const value = Number(dur?.trim().slice(4));
    return Number.isFinite(value) ? value : undefined;
  }
  return undefined;
}

/** Mean and p99 of each part, over all samples and over the slowest 1% by total. */
export interface TimeSplit {
  answers: number;
  all: Record<"total_ms" | "before_isolate_ms" | "isolate_ms" | "pool_ms", { mean: number; p99: number }>;
  slowest_1pct_mean: Record<"total_ms" | "before_isolate_ms" | "isolate_ms" | "pool_ms", number>;
}

/** Splits `samples` (see the module); undefined without any. */
export function splitTimes(samples: readonly TimeSample[]): TimeSplit | undefined {
  if (samples.length === 0) return undefined;
  const parts = samples.map((s) => ({
    total_ms: s.total,
    before_isolate_ms: Math.max(0, s.total - s.edge),
    isolate_ms: Math.max(0, s.edge - s.pool),
    pool_ms: s.pool,
  }));
  const keys = ["total_ms", "before_isolate_ms", "isolate_ms", "pool_ms"] as const;
  const round = (v: number) => Math.round(v * 10) / 10;
  const mean = (rows: typeof parts, key: (typeof keys)[number]) =>
    round(rows.reduce((sum, r) => sum + r[key], 0) / Math.max(1, rows.length));
  const p99 = (key: (typeof keys)[number]) => {
    const sorted = parts.map((r) => r[key]).sort((a, b) => a - b);
    return round(sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] ?? 0);
  };
  const slowest = [...parts]
    .sort((a, b) => b.total_ms - a.total_ms)
    .slice(0, Math.max(1, Math.ceil(parts.length / 100)));
  return {
    answers: parts.length,
    all: Object.fromEntries(keys.map((k) => [k, { mean: mean(parts, k), p99: p99(k) }])) as TimeSplit["all"],
    slowest_1pct_mean: Object.fromEntries(
      keys.map((k) => [k, mean(slowest, k)]),
    ) as TimeSplit["slowest_1pct_mean"],
  };
}
