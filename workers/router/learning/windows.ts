import { z } from "zod";
import type { ClickHouse } from "../../clickhouse/client.ts";
import { correctLabels, wrongLabels } from "../../drift/windows.ts";

/** Rated answers of one tenant's task class on one tier within a window. */
export interface ClassTierRatings {
  tenant: string;
  taskClass: string;
  tier: string;
  rated: number;
  good: number;
}

const ratingsRow = z.object({
  tenant: z.string(),
  task_class: z.string(),
  tier: z.string(),
  rated: z.number(),
  good: z.number(),
});

/**
 * The ratings of difficulty-routed requests made in [fromMs, toMs), per tenant, task class and serving
 * tier: the latest feedback per request, joined to its request on (tenant, request_id). A known label
 * decides the verdict, otherwise the sign of the rating; a zero rating without a label is not counted.
 */
export async function readClassRatings(
  ch: ClickHouse,
  range: { fromMs: number; toMs: number },
): Promise<ClassTierRatings[]> {
  const rows = await ch.query(
    `SELECT e.tenant AS tenant, e.route_class AS task_class, e.tier AS tier,
            countIf(f.verdict != 0) AS rated, countIf(f.verdict = 1) AS good
     FROM (
       SELECT tenant, request_id, route_class, tier
       FROM events FINAL
       WHERE route_class != ''
         AND ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
     ) AS e
     INNER JOIN (
       SELECT tenant, request_id,
              multiIf(label IN {correct:Array(String)}, 1, label IN {wrong:Array(String)}, -1, sign(rating)) AS verdict
       FROM (
         SELECT tenant, request_id, argMax(rating, ts) AS rating, argMax(label, ts) AS label
         FROM feedback FINAL
         WHERE ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
         GROUP BY tenant, request_id
       )
     ) AS f ON f.tenant = e.tenant AND f.request_id = e.request_id
     GROUP BY tenant, task_class, tier
     ORDER BY tenant, task_class, tier`,
    { from: range.fromMs, to: range.toMs, correct: correctLabels, wrong: wrongLabels },
    ratingsRow,
  );
  return rows.map((r) => ({
    tenant: r.tenant,
    taskClass: r.task_class,
    tier: r.tier,
    rated: r.rated,
    good: r.good,
  }));
}
