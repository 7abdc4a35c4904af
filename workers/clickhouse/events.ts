import { z } from "zod";
import type { RequestEvent } from "../../shared/events.ts";
import type { ClickHouse } from "./client.ts";

/** The table `RequestEvent`s land in (migration 0001). */
export const eventsTable = "events";

/**
 * The ClickHouse row for an event. Column names equal the field names; `ts` stays epoch milliseconds,
 * which a DateTime64(3) column reads as milliseconds.
 */
export function eventRow(event: RequestEvent): Record<string, unknown> {
  return { ...event };
}

/**
 * Inserts a batch of events into the client's database. Pass the same `dedupToken` when retrying the
 * same batch (e.g. derived from the Kafka partition and offsets) so the retry is not counted twice.
 */
export async function insertEvents(
  ch: ClickHouse,
  events: readonly RequestEvent[],
  dedupToken?: string,
): Promise<void> {
  await ch.insert(eventsTable, events.map(eventRow), dedupToken === undefined ? undefined : { dedupToken });
}

export const minuteStatsSchema = z.object({
  tenant: z.string(),
  tier: z.string(),
  model: z.string(),
  /** Start of the minute, epoch milliseconds. */
  minute: z.number(),
  requests: z.number(),
  users: z.number(),
  latency_avg_ms: z.number(),
  /** p50, p95, p99 (t-digest estimates). */
  latency_quantiles_ms: z.array(z.number()).length(3),
  cache_hits: z.number(),
  fallbacks: z.number(),
});
export type MinuteStats = z.infer<typeof minuteStatsSchema>;

/** Per-minute request statistics of a tenant for minutes in [fromMs, toMs), merged from `events_by_minute`. */
export function eventsPerMinute(
  ch: ClickHouse,
  { tenant, fromMs, toMs }: { tenant: string; fromMs: number; toMs: number },
): Promise<MinuteStats[]> {
  return ch.query(
    // Aliases reuse column names, so every column reference is qualified with `agg.`.
    `SELECT agg.tenant AS tenant, agg.tier AS tier, agg.model AS model,
            toUnixTimestamp(agg.minute) * 1000 AS minute,
            countMerge(agg.requests) AS requests,
            uniqMerge(agg.users) AS users,
            avgMerge(agg.latency_avg) AS latency_avg_ms,
            quantilesTDigestMerge(0.5, 0.95, 0.99)(agg.latency_quantiles) AS latency_quantiles_ms,
            sumMerge(agg.cache_hits) AS cache_hits,
            sumMerge(agg.fallbacks) AS fallbacks
     FROM events_by_minute AS agg
     WHERE agg.tenant = {tenant:String}
       AND agg.minute >= toDateTime({from:UInt32}, 'UTC') AND agg.minute < toDateTime({to:UInt32}, 'UTC')
     GROUP BY agg.tenant, agg.tier, agg.model, agg.minute
     ORDER BY agg.minute, agg.tier, agg.model`,
    { tenant, from: Math.floor(fromMs / 1000), to: Math.ceil(toMs / 1000) },
    minuteStatsSchema,
  );
}
