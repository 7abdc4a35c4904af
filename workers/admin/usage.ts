import { z } from "zod";
import { GatewayError } from "../../shared/errors.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import { eventsTable } from "../clickhouse/events.ts";

/** How rows can be grouped: the API's name → the SQL expression and the answer's column. */
const dimensions = {
  tenant: { sql: "tenant", column: "tenant" },
  key: { sql: "key_id", column: "key_id" },
  model: { sql: "model", column: "model" },
  day: { sql: "formatDateTime(toStartOfDay(ts), '%F')", column: "period" },
  hour: { sql: "formatDateTime(toStartOfHour(ts), '%FT%H:00:00Z')", column: "period" },
} as const;
export type UsageDimension = keyof typeof dimensions;

/**
 * The measures of a usage row: the answer's column → its aggregate over `events`. Columns added to
 * `events` later (cost) become usage columns by adding an entry here.
 */
export const usageMeasures: Record<string, string> = {
  requests: "count()",
  errors: "countIf(status >= 400)",
  cache_hits: "countIf(cache = 'HIT')",
  prompt_tokens: "sum(prompt_tokens)",
  completion_tokens: "sum(completion_tokens)",
};

/** One usage query: a period and optional filters; `tenant` undefined means every tenant. */
export interface UsageQuery {
  tenant?: string;
  keyId?: string;
  model?: string;
  fromMs: number;
  toMs: number;
  groupBy: UsageDimension[];
}

const maxRows = 10_000;
const maxPeriodMs = 400 * 86_400_000;

/** Parses the API's `from`, `to` (ISO; default the last 24 hours) and `group_by` (comma-separated). */
export function usageQueryFrom(
  query: { from?: string; to?: string; key_id?: string; model?: string; group_by?: string },
  tenant: string | undefined,
  now = Date.now(),
): UsageQuery {
  const toMs = query.to ? Date.parse(query.to) : now;
  const fromMs = query.from ? Date.parse(query.from) : toMs - 86_400_000;
  if (!(fromMs < toMs))
    throw new GatewayError("BAD_REQUEST", "`from` must be before `to`.", { param: "from" });
  if (toMs - fromMs > maxPeriodMs) {
    throw new GatewayError("BAD_REQUEST", "The period is longer than 400 days.", { param: "from" });
  }
  const groupBy = (query.group_by?.split(",") ?? ["model"]) as UsageDimension[];
  return {
    fromMs,
    toMs,
    groupBy: [...new Set(groupBy)],
    ...(tenant === undefined ? {} : { tenant }),
    ...(query.key_id ? { keyId: query.key_id } : {}),
    ...(query.model ? { model: query.model } : {}),
  };
}

function usageSql(query: UsageQuery): string {
  const dims = query.groupBy.map((d) => dimensions[d]);
  // `day` and `hour` share the `period` column: the finer one wins.
  const chosen = dims.filter(
    (d, i) => d.column !== "period" || !dims.slice(i + 1).some((o) => o.column === "period"),
  );
  const select = [
    ...chosen.map((d) => `${d.sql} AS ${d.column}`),
    ...Object.entries(usageMeasures).map(([name, expr]) => `${expr} AS ${name}`),
  ];
  const where = [
    "ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')",
    "ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')",
    query.tenant === undefined ? "" : "tenant = {tenant:String}",
    query.keyId === undefined ? "" : "key_id = {key:String}",
    query.model === undefined ? "" : "model = {model:String}",
  ].filter(Boolean);
  const group = chosen.length ? ` GROUP BY ${chosen.map((d) => d.column).join(", ")}` : "";
  const order = chosen.length ? ` ORDER BY ${chosen.map((d) => d.column).join(", ")}` : "";
  return `SELECT ${select.join(", ")} FROM ${eventsTable} FINAL WHERE ${where.join(" AND ")}${group}${order} LIMIT ${maxRows}`;
}

const usageRow = z
  .object({
    tenant: z.string().optional(),
    key_id: z.string().optional(),
    model: z.string().optional(),
    period: z.string().optional(),
  })
  .catchall(z.union([z.number(), z.string()]));

/** Usage per the query's groups, exact (`events FINAL`: a redelivered event counts once). */
export async function queryUsage(clickhouse: ClickHouse, query: UsageQuery) {
  const rows = await clickhouse.query(
    usageSql(query),
    {
      from: query.fromMs,
      to: query.toMs,
      tenant: query.tenant ?? "",
      key: query.keyId ?? "",
      model: query.model ?? "",
    },
    usageRow,
  );
  return {
    from: new Date(query.fromMs).toISOString(),
    to: new Date(query.toMs).toISOString(),
    data: rows,
  };
}
