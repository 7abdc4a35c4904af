import {
  type Budget,
  budgetCounterKey,
  nanoPerUsd,
  periodOf,
  type TokenPrice,
} from "../../shared/schemas/spend.ts";

export { budgetCounterKey, nanoPerUsd, periodOf };

import type { VerifiedKey } from "./api-keys.ts";

/** One Redis counter a request reserves on: a budget's period or the key's token minute. */
export interface Counter {
  key: string;
  /** Reserved on it for this request (nano-USD or tokens). */
  amount: number;
  /** Refuse when the counter would pass this; null: never refuse (soft budget). */
  hardLimit: number | null;
  /** Lifetime of the counter in ms (0: none, for `total`). */
  ttlMs: number;
  kind: "budget" | "tokens-per-minute";
  budget?: Budget;
  /** Start of the counter's period (epoch ms; 0 for `total`). */
  periodStart: number;
  /** End of the counter's period (epoch ms; Infinity for `total`). */
  periodEnd: number;
  metric: "usd" | "tokens";
}

/** The worst case of one request, before it is answered. */
export interface RequestBound {
  /** An upper bound of the prompt's tokens: its UTF-8 bytes (a byte-level BPE token is at least one byte) plus a per-message template allowance. */
  promptTokens: number;
  /** `max_tokens` (or `max_completion_tokens`), else the configured default cap. */
  completionTokens: number;
}

const minuteMs = 60_000;

/** The worst-case USD of a request at the price ceiling, in nano-dollars (rounded up). */
export function reserveNanoUsd(bound: RequestBound, ceiling: TokenPrice): number {
  const usd = (bound.promptTokens * ceiling.input + bound.completionTokens * ceiling.output) / 1_000_000;
  return Math.ceil(usd * nanoPerUsd);
}

/** Every counter this key's request reserves on, with what it reserves. */
export function counterPlan(key: VerifiedKey, bound: RequestBound, now: number): Counter[] {
  const tokens = bound.promptTokens + bound.completionTokens;
  const counters: Counter[] = [];
  const budgets = key.budgets;
  for (const budget of budgets?.limits ?? []) {
    const { start, end } = periodOf(budget.period, now);
    const usd = budget.metric === "usd";
    counters.push({
      key: budgetCounterKey(key, budget, start),
      amount: usd
        ? reserveNanoUsd(bound, budgets?.priceCeiling ?? { input: 0, output: 0, cached: 0 })
        : tokens,
      hardLimit: budget.mode === "hard" ? Math.floor(budget.limit * (usd ? nanoPerUsd : 1)) : null,
      ttlMs: Number.isFinite(end) ? end - now + 86_400_000 : 0,
      kind: "budget",
      budget,
      periodStart: start,
      periodEnd: end,
      metric: budget.metric,
    });
  }
  if (key.tokensPerMinute) {
    const start = Math.floor(now / minuteMs) * minuteMs;
    counters.push({
      key: `tg:tpm:${key.keyId}:${start / minuteMs}`,
      amount: tokens,
      hardLimit: key.tokensPerMinute,
      ttlMs: 2 * minuteMs,
      kind: "tokens-per-minute",
      periodStart: start,
      periodEnd: start + minuteMs,
      metric: "tokens",
    });
  }
  return counters;
}

/** A duration as OpenAI writes `x-ratelimit-reset-tokens`: `850ms`, `12s`, `1m0s`. */
export function formatResetDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const seconds = Math.ceil(ms / 1_000);
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m${seconds % 60}s` : `${seconds}s`;
}

/** `$5.00` or `1,000 tokens`: an amount of a budget's metric, for messages. */
export function formatAmount(metric: "usd" | "tokens", value: number): string {
  return metric === "usd" ? `$${value.toFixed(value < 1 ? 6 : 2)}` : `${Math.round(value)} tokens`;
}

/** The counter's raw value in the metric's unit (USD or tokens). */
export function inUnits(counter: Pick<Counter, "metric">, raw: number): number {
  return counter.metric === "usd" ? raw / nanoPerUsd : raw;
}
