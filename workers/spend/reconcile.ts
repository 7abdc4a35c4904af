import { Redis } from "@upstash/redis";
import { DependencyError } from "../../shared/dependency-error.ts";
import { budgetCounterKey, nanoPerUsd, periodOf } from "../../shared/schemas/spend.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import type { BudgetRow } from "../db/schema.ts";
import { spentSince } from "./query.ts";

/** Raises KEYS[1] to ARGV[1] when it is lower (spend counters only ever grow from reconciliation). */
const raiseScript = `
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if floor > value then
  redis.call('SET', KEYS[1], ARGV[1])
  if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return floor
end
return value`;

/** Where the edge keeps its spend counters: Redis over Upstash's REST protocol. */
export interface CounterStore {
  /** Sets the counter to `floor` when it holds less; returns the value after. */
  raise(key: string, floor: number, ttlMs: number): Promise<number>;
}

/** The CounterStore on the edge's Redis. */
export function upstashCounterStore(url: string, token: string): CounterStore {
  const redis = new Redis({ url, token, enableTelemetry: false, retry: false });
  const script = redis.createScript<number>(raiseScript);
  return {
    async raise(key, floor, ttlMs) {
      try {
        return Number(await script.exec([key], [String(floor), String(ttlMs)]));
      } catch (error: unknown) {
        throw new DependencyError("redis", true, "could not reconcile a spend counter", { cause: error });
      }
    },
  };
}

/** One budget counter after reconciliation. */
export interface Reconciled {
  budgetId: string;
  key: string;
  recorded: number;
  counter: number;
}

/**
 * Reconciles the budgets' Redis counters from ClickHouse: a counter lower than the period's recorded
 * spend (Redis lost it, or answers were never settled) is raised to it. Never lowers a counter: Redis
 * also holds reservations in flight and answers not ingested yet, which ClickHouse cannot see.
 */
export async function reconcileBudgets(
  deps: { clickhouse: ClickHouse; counters: CounterStore },
  budgets: readonly BudgetRow[],
  now = Date.now(),
): Promise<Reconciled[]> {
  const out: Reconciled[] = [];
  for (const budget of budgets) {
    const metric = budget.metric === "usd" ? "usd" : "tokens";
    const period = budget.period as "day" | "month" | "total";
    const { start, end } = periodOf(period, now);
    const scope = budget.keyId === "" ? "tenant" : "key";
    const recorded = await spentSince(deps.clickhouse, {
      tenant: budget.tenantId,
      keyId: scope === "key" ? budget.keyId : undefined,
      fromDay: new Date(start).toISOString().slice(0, 10),
      metric,
    });
    const key = budgetCounterKey(
      { tenantId: budget.tenantId, keyId: budget.keyId },
      { scope, metric, period },
      start,
    );
    const floor = Math.round(metric === "usd" ? recorded * nanoPerUsd : recorded);
    const ttlMs = Number.isFinite(end) ? end - now + 86_400_000 : 0;
    out.push({ budgetId: budget.id, key, recorded, counter: await deps.counters.raise(key, floor, ttlMs) });
  }
  return out;
}
