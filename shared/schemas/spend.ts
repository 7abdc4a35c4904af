import { z } from "zod";

/** What a budget counts: US dollars or tokens (prompt + completion). */
export const budgetMetricSchema = z.enum(["usd", "tokens"]);
/** The period a budget's counter runs over: a UTC day, a UTC month, or the key's whole life. */
export const budgetPeriodSchema = z.enum(["day", "month", "total"]);
/** Hard budgets refuse requests at the edge; soft ones write an alert and call a webhook. */
export const budgetModeSchema = z.enum(["hard", "soft"]);

/** One budget as the edge applies it (from Postgres `budgets`, tenant-wide or for one key). */
export const budgetSchema = z.object({
  id: z.string(),
  /** `key`: counts this key's requests; `tenant`: every key of the tenant. */
  scope: z.enum(["key", "tenant"]),
  metric: budgetMetricSchema,
  period: budgetPeriodSchema,
  /** USD or tokens. */
  limit: z.number().positive(),
  mode: budgetModeSchema,
});
export type Budget = z.infer<typeof budgetSchema>;

/** USD per million tokens. */
export const tokenPriceSchema = z.object({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cached: z.number().nonnegative(),
});
export type TokenPrice = z.infer<typeof tokenPriceSchema>;

/**
 * The spend settings of a key, sent to the edge with the key (`verifiedKeySchema.budgets`): its own and
 * its tenant's budgets, and the highest current price of any model it may reach (what a reservation is
 * priced at before the router has chosen a model).
 */
export const keyBudgetsSchema = z.object({
  limits: z.array(budgetSchema),
  priceCeiling: tokenPriceSchema,
});
export type KeyBudgets = z.infer<typeof keyBudgetsSchema>;

/** Per-key request limiting: `fast` reserves slices of the limit per isolate, `exact` asks Redis every time. */
export const rateLimitModeSchema = z.enum(["fast", "exact"]);
export type RateLimitMode = z.infer<typeof rateLimitModeSchema>;

/** A soft budget's counter passed its limit: the edge reports it to the pool (signed), once per period. */
export const budgetAlertRequestSchema = z.strictObject({
  budget_id: z.string().min(1).max(200),
  tenant: z.string().min(1).max(128),
  key_id: z.string().max(200),
  /** Start of the budget's period (epoch ms; 0 for `total`). */
  period_start: z.number().int().nonnegative(),
  spent: z.number().nonnegative(),
  limit: z.number().positive(),
});
export type BudgetAlertRequest = z.infer<typeof budgetAlertRequestSchema>;

/** Response headers the pool sets on a complete (non-streamed) answer: its cost and billed tokens. */
export const spendHeaders = {
  costUsd: "x-tiergate-cost-usd",
  tokens: "x-tiergate-billed-tokens",
} as const;

/** A streamed answer ends with an SSE comment `: tiergate-spend usd=<n>;tokens=<n>` before `[DONE]`. */
export const spendTrailerPrefix = "tiergate-spend ";

/** What one answered request cost, as the pool reports it to the edge. */
export interface SpendReport {
  usd: number;
  tokens: number;
}

/** `usd=<n>;tokens=<n>`, the value of the stream trailer. */
export function formatSpendReport(report: SpendReport): string {
  return `usd=${report.usd};tokens=${report.tokens}`;
}

/** Parses {@link formatSpendReport}'s text; null when malformed. */
export function parseSpendReport(text: string | null | undefined): SpendReport | null {
  const match = text?.trim().match(/^usd=([0-9.eE+-]+);tokens=(\d+)$/);
  if (!match) return null;
  const usd = Number(match[1]);
  const tokens = Number(match[2]);
  return Number.isFinite(usd) && usd >= 0 && Number.isSafeInteger(tokens) ? { usd, tokens } : null;
}

/** USD counters hold nano-dollars: integers for INCRBY, exact to 1e-9 USD, up to ~9 million USD. */
export const nanoPerUsd = 1_000_000_000;

/** Start and end of a budget period around `now` (UTC days and months). */
export function periodOf(period: Budget["period"], now: number): { start: number; end: number } {
  const date = new Date(now);
  if (period === "day") {
    const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
    return { start, end: start + 86_400_000 };
  }
  if (period === "month") {
    return {
      start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1),
      end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
    };
  }
  return { start: 0, end: Number.POSITIVE_INFINITY };
}

/** The Redis counter of a budget's scope, metric and period (shared by every isolate and the reconciler). */
export function budgetCounterKey(
  scope: { tenantId: string; keyId: string },
  budget: Pick<Budget, "scope" | "metric" | "period">,
  periodStart: number,
): string {
  const owner = budget.scope === "key" ? `k:${scope.keyId}` : `t:${scope.tenantId}`;
  return `tg:spend:${owner}:${budget.metric}:${budget.period}:${periodStart}`;
}
