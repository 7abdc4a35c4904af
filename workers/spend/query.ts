import { z } from "zod";
import type { ClickHouse } from "../clickhouse/client.ts";

/** What spend is grouped by (besides the day, when `byDay`). */
export const spendGroupings = ["tenant", "key", "model"] as const;
export type SpendGrouping = (typeof spendGroupings)[number];

/** A spend query over `spend_daily`: one tenant (or all), optionally one key and one model version. */
export interface SpendQuery {
  /** Empty: every tenant. */
  tenant: string;
  keyId?: string | undefined;
  /** A model version name (the event's `model_version`). */
  model?: string | undefined;
  /** UTC days, inclusive: `YYYY-MM-DD`. */
  from: string;
  to: string;
  groupBy: readonly SpendGrouping[];
  /** One row per day too. */
  byDay?: boolean;
}

export const spendRowSchema = z.object({
  tenant: z.string(),
  key_id: z.string(),
  model: z.string(),
  day: z.string(),
  requests: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cached_tokens: z.number(),
  cost_usd: z.number(),
});
export type SpendRow = z.infer<typeof spendRowSchema>;

/**
 * Spend from the `spend_daily` rollup, summed per the chosen groupings (columns not grouped by come back
 * as ''). The service the CLI and the admin API answer spend questions with. Throws
 * DependencyError("clickhouse", …).
 */
export function querySpend(ch: ClickHouse, query: SpendQuery): Promise<SpendRow[]> {
  const by = new Set(query.groupBy);
  const column = (on: boolean, expression: string, alias: string) =>
    on ? `${expression} AS ${alias}` : `'' AS ${alias}`;
  const keys = [
    by.has("tenant") ? "s.tenant" : "",
    by.has("key") ? "s.key_id" : "",
    by.has("model") ? "s.model_version" : "",
    query.byDay ? "s.day" : "",
  ].filter(Boolean);
  return ch.query(
    `SELECT ${column(by.has("tenant"), "s.tenant", "tenant")},
            ${column(by.has("key"), "s.key_id", "key_id")},
            ${column(by.has("model"), "s.model_version", "model")},
            ${column(query.byDay === true, "toString(s.day)", "day")},
            sum(s.requests) AS requests,
            sum(s.prompt_tokens) AS prompt_tokens,
            sum(s.completion_tokens) AS completion_tokens,
            sum(s.cached_tokens) AS cached_tokens,
            sum(s.cost_usd) AS cost_usd
     FROM spend_daily AS s
     WHERE s.day >= toDate({from:String}) AND s.day <= toDate({to:String})
       AND ({tenant:String} = '' OR s.tenant = {tenant:String})
       AND ({key:String} = '' OR s.key_id = {key:String})
       AND ({model:String} = '' OR s.model_version = {model:String})
     ${keys.length > 0 ? `GROUP BY ${keys.join(", ")} ORDER BY ${keys.join(", ")}` : ""}`,
    {
      from: query.from,
      to: query.to,
      tenant: query.tenant,
      key: query.keyId ?? "",
      model: query.model ?? "",
    },
    spendRowSchema,
  );
}

const costPointSchema = z.object({
  t: z.number(),
  tier: z.string(),
  model: z.string(),
  cost_usd: z.number(),
});
export type CostPoint = z.infer<typeof costPointSchema>;

/**
 * Cost per bucket, tier and model from `spend_1m` (events priced by the registry when they happened),
 * for the dashboard. `bucketSeconds` is 60 or 3600.
 */
export function costByBucket(
  ch: ClickHouse,
  range: { fromS: number; toS: number; tenant: string; bucketSeconds: number },
): Promise<CostPoint[]> {
  return ch.query(
    `SELECT toUnixTimestamp(toStartOfInterval(s.bucket, toIntervalSecond({bucket:UInt32}))) * 1000 AS t,
            s.tier AS tier, s.model AS model, sum(s.cost_usd) AS cost_usd
     FROM spend_1m AS s
     WHERE s.bucket >= toDateTime({from:UInt32}, 'UTC') AND s.bucket < toDateTime({to:UInt32}, 'UTC')
       AND ({tenant:String} = '' OR s.tenant = {tenant:String})
     GROUP BY t, tier, model`,
    { from: range.fromS, to: range.toS, tenant: range.tenant, bucket: range.bucketSeconds },
    costPointSchema,
  );
}

const periodSpendSchema = z.object({ spent: z.number() });

/**
 * What a scope (a tenant, or one key when `keyId` is set) spent since `fromDay` (inclusive, UTC), in
 * USD or tokens: the reconciliation job's source of truth.
 */
export async function spentSince(
  ch: ClickHouse,
  scope: { tenant: string; keyId?: string | undefined; fromDay: string; metric: "usd" | "tokens" },
): Promise<number> {
  const measure = scope.metric === "usd" ? "sum(s.cost_usd)" : "sum(s.prompt_tokens + s.completion_tokens)";
  const [row] = await ch.query(
    `SELECT toFloat64(${measure}) AS spent FROM spend_daily AS s
     WHERE s.tenant = {tenant:String} AND ({key:String} = '' OR s.key_id = {key:String})
       AND s.day >= toDate({from:String})`,
    { tenant: scope.tenant, key: scope.keyId ?? "", from: scope.fromDay },
    periodSpendSchema,
  );
  return row?.spent ?? 0;
}
