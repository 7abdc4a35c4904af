import { z } from "zod";
import type { ClickHouse } from "../clickhouse/client.ts";

/** Windows the dashboard offers, in seconds. Up to 6 h it reads the minute view, beyond the hour view. */
export const statsWindows = { "15m": 900, "1h": 3_600, "6h": 21_600, "24h": 86_400, "7d": 604_800 } as const;
export type StatsWindow = keyof typeof statsWindows;

const quantiles = z.array(z.number()).length(3);

export const statsPointSchema = z.object({
  /** Start of the bucket, epoch ms. */
  t: z.number(),
  requests: z.number(),
  users: z.number(),
  /** p50, p95, p99 in ms (t-digest). */
  latency_ms: quantiles,
  ttft_ms: quantiles,
  cache_hits: z.number(),
  errors: z.number(),
  /** Requests answered 503 (shed under load, or no capacity), counted from `events` by event id. */
  shed: z.number(),
  fallbacks: z.number(),
  fallback_reasons: z.record(z.string(), z.number()),
});
export type StatsPoint = z.infer<typeof statsPointSchema>;

const shedRow = z.object({ t: z.number(), shed: z.number() });

export const tierPointSchema = z.object({
  t: z.number(),
  tier: z.string(),
  model: z.string(),
  requests: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
});
export type TierPoint = z.infer<typeof tierPointSchema>;

export const driftPointSchema = z.object({ t: z.number(), tier: z.string(), score: z.number() });
export type DriftPoint = z.infer<typeof driftPointSchema>;

export interface StatsQuery {
  window: StatsWindow;
  /** Empty: every tenant. */
  tenant: string;
  /** End of the window, epoch ms (default now). */
  endMs?: number;
}

export interface WindowStats {
  window: StatsWindow;
  bucketSeconds: number;
  fromMs: number;
  toMs: number;
  series: StatsPoint[];
  tiers: TierPoint[];
  drift: DriftPoint[];
}

function range(query: StatsQuery) {
  const seconds = statsWindows[query.window];
  const bucketSeconds = seconds <= statsWindows["6h"] ? 60 : 3_600;
  const toMs = query.endMs ?? Date.now();
  const fromMs = toMs - seconds * 1000;
  // Table names are code constants, bound as identifiers.
  const table = bucketSeconds === 60 ? "request_stats_1m" : "request_stats_1h";
  const from = Math.floor(fromMs / 1000 / bucketSeconds) * bucketSeconds;
  return {
    bucketSeconds,
    fromMs,
    toMs,
    params: { table, from, to: Math.ceil(toMs / 1000), tenant: query.tenant, bucket: bucketSeconds },
  };
}

const where = `s.bucket >= toDateTime({from:UInt32}, 'UTC') AND s.bucket < toDateTime({to:UInt32}, 'UTC')
       AND ({tenant:String} = '' OR s.tenant = {tenant:String})`;

/**
 * Everything the dashboard draws for a window, merged from the request_stats views and drift_scores.
 * Throws DependencyError("clickhouse", …).
 */
export async function windowStats(ch: ClickHouse, query: StatsQuery): Promise<WindowStats> {
  const { bucketSeconds, fromMs, toMs, params } = range(query);
  const [rollup, shed, tiers, drift] = await Promise.all([
    ch.query(
      `SELECT toUnixTimestamp(s.bucket) * 1000 AS t,
              countMerge(s.requests) AS requests,
              uniqMerge(s.users) AS users,
              quantilesTDigestMerge(0.5, 0.95, 0.99)(s.latency_quantiles) AS latency_ms,
              quantilesTDigestMerge(0.5, 0.95, 0.99)(s.ttft_quantiles) AS ttft_ms,
              sum(s.cache_hits) AS cache_hits,
              sum(s.errors) AS errors,
              sum(s.fallbacks) AS fallbacks,
              sumMapMerge(s.fallback_reasons) AS fallback_reasons
       FROM {table:Identifier} AS s
       WHERE ${where}
       GROUP BY s.bucket ORDER BY s.bucket`,
      params,
      statsPointSchema.omit({ shed: true }),
    ),
    ch.query(
      `SELECT toUnixTimestamp(toStartOfInterval(e.ts, INTERVAL {bucket:UInt32} SECOND)) * 1000 AS t,
              uniqExact(e.event_id) AS shed
       FROM events AS e
       WHERE e.ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND e.ts < toDateTime64({to:UInt32}, 3, 'UTC')
         AND ({tenant:String} = '' OR e.tenant = {tenant:String}) AND e.status = 503
       GROUP BY t`,
      params,
      shedRow,
    ),
    ch.query(
      `SELECT toUnixTimestamp(s.bucket) * 1000 AS t, s.tier AS tier, s.model AS model,
              countMerge(s.requests) AS requests,
              sum(s.prompt_tokens) AS prompt_tokens,
              sum(s.completion_tokens) AS completion_tokens
       FROM {table:Identifier} AS s
       WHERE ${where}
       GROUP BY s.bucket, s.tier, s.model ORDER BY s.bucket, s.tier, s.model`,
      params,
      tierPointSchema,
    ),
    ch.query(
      `SELECT toUnixTimestamp64Milli(d.ts) AS t, d.tier AS tier, d.score AS score
       FROM drift_scores AS d
       WHERE d.ts >= toDateTime64({from:UInt32}, 3, 'UTC')
       ORDER BY d.ts LIMIT 10000`,
      params,
      driftPointSchema,
    ),
  ]);
  const shedAt = new Map(shed.map((row) => [row.t, row.shed]));
  const series = rollup.map((point) => ({ ...point, shed: shedAt.get(point.t) ?? 0 }));
  return { window: query.window, bucketSeconds, fromMs, toMs, series, tiers, drift };
}

const latestDriftRow = z.object({ tier: z.string(), score: z.number() });

/** The latest drift score per tier (for the drift_score gauge). Throws DependencyError("clickhouse", …). */
export async function latestDriftScores(ch: ClickHouse): Promise<Map<string, number>> {
  const rows = await ch.query(
    "SELECT d.tier AS tier, argMax(d.score, d.ts) AS score FROM drift_scores AS d GROUP BY d.tier",
    {},
    latestDriftRow,
  );
  return new Map(rows.map((row) => [row.tier, row.score]));
}

/** Wraps a loader so it runs at most once per `ttlMs`; a failure keeps serving the last good value. */
export function cached<T>(load: () => Promise<T>, ttlMs: number, initial: T): () => Promise<T> {
  let value = initial;
  let loadedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<T> | undefined;
  return () => {
    if (Date.now() - loadedAt < ttlMs) return Promise.resolve(value);
    inFlight ??= load()
      .then(
        (fresh) => {
          value = fresh;
          return fresh;
        },
        () => value,
      )
      .finally(() => {
        loadedAt = Date.now();
        inFlight = undefined;
      });
    return inFlight;
  };
}
