import type { Redis } from "@upstash/redis/cloudflare";
import { GatewayError } from "../../shared/errors.ts";
import type { BudgetAlertRequest, SpendReport } from "../../shared/schemas/spend.ts";
import { withDeadline } from "../lib/deadline.ts";
import type { VerifiedKey } from "./api-keys.ts";
import {
  type Counter,
  counterPlan,
  formatAmount,
  formatResetDuration,
  inUnits,
  nanoPerUsd,
  type RequestBound,
} from "./spend-plan.ts";

/**
 * Atomic check-and-reserve over every counter of a request. KEYS: the counters. ARGV, three per counter:
 * the amount to reserve, the hard limit (-1: none), the lifetime in ms (0: none). Refuses (adding
 * nothing) when any counter would pass its hard limit: returns {its 1-based index, its value}; else adds
 * every amount and returns {0, value after, …}.
 */
const reserveScript = `
local n = #KEYS
for i = 1, n do
  local limit = tonumber(ARGV[3 * i - 1])
  if limit >= 0 then
    local value = tonumber(redis.call('GET', KEYS[i]) or '0')
    if value + tonumber(ARGV[3 * i - 2]) > limit then return {i, value} end
  end
end
local out = {0}
for i = 1, n do
  out[i + 1] = redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
  local ttl = tonumber(ARGV[3 * i])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return out`;

/** Adds each ARGV[i] (may be negative) to KEYS[i]; returns the values after. */
const settleScript = `
local out = {}
for i = 1, #KEYS do out[i] = redis.call('INCRBY', KEYS[i], ARGV[i]) end
return out`;

/** Options of {@link SpendGuard}. */
export interface SpendGuardOptions {
  /** A reservation that Redis does not answer within this long lets the request through unmetered. */
  deadlineMs: number;
  /** Reported once per soft budget and period when its counter passes the limit. */
  onSoftPassed(alert: BudgetAlertRequest): Promise<unknown>;
  /** Runs work after the response (waitUntil on Workers). */
  background?(label: string, work: Promise<unknown>): void;
}

/** A request's reservation, to settle with what it really cost once it is answered. */
export interface SpendHold {
  /** `x-ratelimit-*-tokens` when the key has a token limit. */
  headers: Record<string, string>;
  /** Replaces the reservation with the cost the pool reported; null (not reported) keeps it. */
  settle(report: SpendReport | null): Promise<void>;
  /** Gives the reservation back: no model answered. */
  release(): Promise<void>;
}

const noHold: SpendHold = { headers: {}, settle: async () => {}, release: async () => {} };

type Reply = number[];

/** What a reservation past its deadline resolves to. */
const late = Symbol("late");

/**
 * Budgets and token limits at the edge. Before a request is forwarded, its worst case (prompt bytes +
 * max_tokens, priced at the ceiling) is reserved on every counter in one atomic Redis script that
 * refuses when a hard limit would be passed, so concurrent requests cannot together pass it. After the
 * answer the reservation is replaced by the reported cost. Fails open (unmetered) when Redis is down or
 * slower than `deadlineMs`: a limiter outage must not become a gateway outage.
 */
export class SpendGuard {
  private readonly reserve;
  private readonly settleCounters;
  /** Soft budget periods already reported from this isolate. */
  private readonly alerted = new Set<string>();

  constructor(
    redis: Redis,
    private readonly options: SpendGuardOptions,
  ) {
    this.reserve = redis.createScript<Reply>(reserveScript);
    this.settleCounters = redis.createScript<Reply>(settleScript);
  }

  /** Reserves the request's worst case; throws 429 when a hard budget or the token limit would be passed. */
  async hold(key: VerifiedKey, bound: RequestBound, now = Date.now()): Promise<SpendHold> {
    const counters = counterPlan(key, bound, now);
    if (counters.length === 0) return noHold;
    const args = counters.flatMap((c) => [String(c.amount), String(c.hardLimit ?? -1), String(c.ttlMs)]);
    const call = this.reserve
      .exec(
        counters.map((c) => c.key),
        args,
      )
      .then(
        (r) => (Array.isArray(r) ? r.map(Number) : null),
        () => null,
      );
    const reply = await withDeadline<Reply | null | typeof late>(call, this.options.deadlineMs, late);
    if (reply === late) {
      // Let through unmetered; a reservation Redis still makes is given back when it lands.
      this.options.background?.(
        "late reservation",
        call.then((r) => (r && r[0] === 0 ? this.heldOn(key, counters, {}).release() : undefined)),
      );
      return noHold;
    }
    if (!reply) return noHold;
    const [refused = 0, ...values] = reply;
    if (refused > 0) throw refusal(counters[refused - 1] as Counter, values[0] ?? 0, now);
    const tpm = counters.find((c) => c.kind === "tokens-per-minute");
    const tpmIndex = tpm ? counters.indexOf(tpm) : -1;
    return this.heldOn(key, counters, tpm ? tokenHeaders(tpm, values[tpmIndex] ?? 0, now) : {});
  }

  private heldOn(key: VerifiedKey, counters: Counter[], headers: Record<string, string>): SpendHold {
    let done = false;
    const apply = async (deltas: number[]) => {
      if (done) return;
      done = true;
      if (deltas.every((d) => d === 0)) return;
      const values = await this.settleCounters
        .exec(
          counters.map((c) => c.key),
          deltas.map(String),
        )
        .then(
          (r) => (Array.isArray(r) ? r.map(Number) : null),
          () => null,
        );
      if (values) this.reportSoftPassed(key, counters, values);
    };
    return {
      headers,
      settle: (report) => {
        if (!report) {
          done = true;
          return Promise.resolve();
        }
        return apply(
          counters.map((c) => {
            const actual = c.metric === "usd" ? Math.round(report.usd * nanoPerUsd) : report.tokens;
            return actual - c.amount;
          }),
        );
      },
      release: () => apply(counters.map((c) => -c.amount)),
    };
  }

  /** Soft budgets whose counter is now past the limit: reported to the pool once per period. */
  private reportSoftPassed(key: VerifiedKey, counters: Counter[], values: number[]): void {
    counters.forEach((counter, i) => {
      const budget = counter.budget;
      const value = values[i] ?? 0;
      if (budget?.mode !== "soft" || inUnits(counter, value) <= budget.limit) return;
      const once = `${budget.id}:${counter.periodStart}`;
      if (this.alerted.has(once)) return;
      if (this.alerted.size > 10_000) this.alerted.clear();
      this.alerted.add(once);
      const work = this.options
        .onSoftPassed({
          budget_id: budget.id,
          tenant: key.tenantId,
          key_id: budget.scope === "key" ? key.keyId : "",
          period_start: counter.periodStart,
          spent: inUnits(counter, value),
          limit: budget.limit,
        })
        .catch(() => this.alerted.delete(once));
      this.options.background?.("budget alert", work);
    });
  }
}

/** OpenAI's token headers for the key's current minute. */
function tokenHeaders(counter: Counter, used: number, now: number): Record<string, string> {
  const limit = counter.hardLimit ?? 0;
  return {
    "x-ratelimit-limit-tokens": String(limit),
    "x-ratelimit-remaining-tokens": String(Math.max(0, limit - used)),
    "x-ratelimit-reset-tokens": formatResetDuration(counter.periodEnd - now),
  };
}

/** The 429 for a counter that would pass its hard limit. */
function refusal(counter: Counter, value: number, now: number): GatewayError {
  const limit = counter.hardLimit ?? 0;
  if (counter.kind === "tokens-per-minute") {
    const headers = tokenHeaders(counter, value, now);
    return new GatewayError(
      "RATE_LIMITED",
      `Rate limit of ${limit} tokens per minute reached (this request may use up to ${counter.amount}).`,
      {
        headers: {
          ...headers,
          "retry-after": String(Math.max(1, Math.ceil((counter.periodEnd - now) / 1000))),
        },
      },
    );
  }
  const budget = counter.budget;
  const metric = counter.metric;
  const period = budget?.period === "total" ? "in total" : `per ${budget?.period ?? "period"}`;
  const scope = budget?.scope === "tenant" ? "tenant" : "key";
  return new GatewayError(
    "BUDGET_EXCEEDED",
    `Budget exceeded: the ${scope}'s hard budget of ${formatAmount(metric, budget?.limit ?? 0)} ${period} ` +
      `has ${formatAmount(metric, Math.max(0, inUnits(counter, limit - value)))} left, less than this ` +
      `request may cost (${formatAmount(metric, inUnits(counter, counter.amount))}).`,
    Number.isFinite(counter.periodEnd)
      ? { headers: { "retry-after": String(Math.max(1, Math.ceil((counter.periodEnd - now) / 1000))) } }
      : {},
  );
}
