import { z } from "zod";
import type { ClickHouse } from "../clickhouse/client.ts";

/** What the router may want to know about a user right now, from their recent request events. */
export interface UserFeatures {
  /** Requests in the window. */
  requests: number;
  /** Requests per minute over the window. */
  requestsPerMinute: number;
  /** Share of the window's requests answered by a fallback (0 when there were none). */
  fallbackRate: number;
  /** Share of the window's requests that failed with a 5xx. */
  errorRate: number;
  /** Share answered from the response cache. */
  cacheHitRate: number;
  windowSeconds: number;
}

const featureRow = z.object({
  requests: z.number(),
  fallbacks: z.number(),
  errors: z.number(),
  hits: z.number(),
});

/**
 * A user's recent behaviour, read straight from `events`. The table is ordered by
 * (tenant, user_id, ts), so this reads one small key range (about 10 ms at 10^6 rows here; see
 * `npm run bench:ingest`). Not FINAL: a rare redelivered duplicate barely moves a rate, and FINAL would
 * cost a merge. Throws DependencyError("clickhouse", …); a router should treat that as "no features".
 */
export async function userFeatures(
  ch: ClickHouse,
  tenant: string,
  userId: string,
  windowSeconds = 300,
): Promise<UserFeatures> {
  const [row] = await ch.query(
    `SELECT count() AS requests,
            countIf(fallback_reason != '') AS fallbacks,
            countIf(status >= 500) AS errors,
            countIf(cache = 'HIT') AS hits
     FROM events
     WHERE tenant = {tenant:String} AND user_id = {user:String}
       AND ts >= now64(3, 'UTC') - toIntervalSecond({window:UInt32})`,
    { tenant, user: userId, window: windowSeconds },
    featureRow,
  );
  const requests = row?.requests ?? 0;
  const share = (n: number) => (requests === 0 ? 0 : n / requests);
  return {
    requests,
    requestsPerMinute: requests / (windowSeconds / 60),
    fallbackRate: share(row?.fallbacks ?? 0),
    errorRate: share(row?.errors ?? 0),
    cacheHitRate: share(row?.hits ?? 0),
    windowSeconds,
  };
}
