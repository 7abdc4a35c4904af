import type { Redis } from "@upstash/redis/cloudflare";
import { GatewayError } from "../../shared/errors.ts";
import type { BudgetAlertRequest, SpendReport } from "../../shared/schemas/spend.ts";
import { withDeadline } from "../lib/deadline.ts";
import type { VerifiedKey } from "./api-keys.ts";
import { type CounterOwner, LeaseBook, type LeaseTuning, leaseScript } from "./spend-lease.ts";
import {
  type Counter,
  counterPlan,
  formatAmount,
  formatResetDuration,
  inUnits,
  nanoPerUsd,
  type RequestBound,
} from "./spend-plan.ts";

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
  /** The isolate's leases (default: 5% of a limit, exact below 10% left, given back after 10 s). */
  lease?: Partial<LeaseTuning>;
  /** Settlements are written to Redis in one script at most this often (default 100 ms). */
  flushMs?: number;
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
 * refuses when a hard limit would be passed. While much of a limit is left, that script also leases the
 * isolate a slice (reserved in Redis like a request), and the next requests are admitted against the
 * slice without a Redis call; near the limit every request is reserved exactly. Since leases are
 * reserved in Redis, all isolates together never admit past a hard limit. Settlements (actual minus
 * reserved) are written in one script per flush, and a lease not used up is given back when it
 * expires. Fails open (unmetered) when Redis is down or slower than `deadlineMs`: a limiter outage must
 * not become a gateway outage.
 */
export class SpendGuard {
  private readonly lease;
  private readonly settleCounters;
  private readonly book: LeaseBook;
  private readonly tuning: LeaseTuning;
  /**
   * Lease calls in flight per counter set; concurrent requests wait for them instead of racing, and
   * pass unmetered with them (false) when Redis failed or was late.
   */
  private readonly inFlight = new Map<string, Promise<boolean>>();
  /** Counter sets whose last reply leased nothing (near the limit): their requests do not queue. */
  private readonly exactSets = new Set<string>();
  private flushing: Promise<void> | null = null;
  private flushingSince = 0;
  /** Soft budget periods already reported from this isolate. */
  private readonly alerted = new Set<string>();

  constructor(
    redis: Redis,
    private readonly options: SpendGuardOptions,
  ) {
    this.lease = redis.createScript<Reply>(leaseScript);
    this.settleCounters = redis.createScript<Reply>(settleScript);
    this.tuning = { fraction: 0.05, exactFraction: 0.1, ttlMs: 10_000, ...options.lease };
    this.book = new LeaseBook(this.tuning);
  }

  /** Reserves the request's worst case; throws 429 when a hard budget or the token limit would be passed. */
  async hold(key: VerifiedKey, bound: RequestBound, now = Date.now()): Promise<SpendHold> {
    const counters = counterPlan(key, bound, now);
    if (counters.length === 0) return noHold;
    const set = counters.map((c) => c.key).join(" ");
    for (;;) {
      if (this.book.take(counters, now)) return this.heldOn(key, counters, this.localHeaders(counters, now));
      const inFlight = this.exactSets.has(set) ? undefined : this.inFlight.get(set);
      if (!inFlight) break;
      if (!(await inFlight)) return noHold;
    }
    let processed = (_answered: boolean) => {};
    if (this.tuning.fraction > 0) {
      const turn = new Promise<boolean>((resolve) => {
        processed = resolve;
      });
      this.inFlight.set(set, turn);
      turn.then(() => {
        if (this.inFlight.get(set) === turn) this.inFlight.delete(set);
      });
    }
    let answered = true;
    try {
      const hold = await this.reserve(key, counters, now);
      answered = hold !== noHold;
      return hold;
    } finally {
      processed(answered);
    }
  }

  /** One lease call for the request: its hold, a refusal, or unmetered when Redis fails or is late. */
  private async reserve(key: VerifiedKey, counters: Counter[], now: number): Promise<SpendHold> {
    const set = counters.map((c) => c.key).join(" ");
    const call = this.callLease(counters);
    const reply = await withDeadline<Reply | null | typeof late>(call, this.options.deadlineMs, late);
    if (reply === late) {
      // Let through unmetered; whatever Redis still grants is given back when it lands.
      this.options.background?.(
        "late reservation",
        call.then((r) => (r && r[0] === 0 ? this.giveBack(key, counters, r.slice(1)) : undefined)),
      );
      return noHold;
    }
    if (!reply) return noHold;
    const [refused = 0, ...values] = reply;
    if (refused > 0) {
      this.markExact(set);
      throw refusal(counters[refused - 1] as Counter, values[0] ?? 0, now);
    }
    const leased = this.book.granted(counters, owner(key), { values, now });
    if (leased) this.exactSets.delete(set);
    else this.markExact(set);
    const expiry = leased ? sleep(this.tuning.ttlMs + 10).then(() => this.flush()) : null;
    const tpmIndex = counters.findIndex((c) => c.kind === "tokens-per-minute");
    const tpm = counters[tpmIndex];
    return this.heldOn(key, counters, tpm ? tokenHeaders(tpm, values[2 * tpmIndex] ?? 0, now) : {}, expiry);
  }

  private markExact(set: string): void {
    if (this.exactSets.size >= 10_000) this.exactSets.clear();
    this.exactSets.add(set);
  }

  /** Writes the pending settlements and gives back expired leases, in one script. */
  async flush(): Promise<void> {
    const drained = this.book.drain(Date.now());
    if (drained.keys.length === 0) return;
    const call = this.settleCounters.exec(drained.keys, drained.deltas.map(String)).then(
      (r) => (Array.isArray(r) ? r.map(Number) : null),
      () => null,
    );
    const values = await withDeadline(call, this.options.deadlineMs, null);
    if (!values) return;
    drained.counters.forEach((counter, i) => {
      this.reportSoftPassed(drained.owners[i] as CounterOwner, counter, values[i] ?? 0);
    });
  }

  /** The lease script for these counters; null when it failed. */
  private callLease(counters: Counter[]): Promise<Reply | null> {
    return this.lease
      .exec(
        counters.map((c) => c.key),
        this.book.leaseArgs(counters),
      )
      .then(
        (r) => (Array.isArray(r) ? r.map(Number) : null),
        () => null,
      );
  }

  /** Gives back a grant that came too late to be used ({value, granted} per counter). */
  private giveBack(key: VerifiedKey, counters: Counter[], values: number[]): Promise<void> {
    counters.forEach((c, i) => {
      this.book.settle(c, owner(key), -(values[2 * i + 1] ?? c.amount));
    });
    return this.scheduleFlush();
  }

  /** One flush for every settlement of the next `flushMs`. */
  private scheduleFlush(): Promise<void> {
    // A flush scheduled by a request whose context was torn down never runs: start another.
    if (this.flushing && Date.now() - this.flushingSince > 2 * this.options.deadlineMs + 1_000) {
      this.flushing = null;
    }
    if (!this.flushing) this.flushingSince = Date.now();
    this.flushing ??= sleep(this.options.flushMs ?? 100).then(() => {
      this.flushing = null;
      return this.flush();
    });
    return this.flushing;
  }

  /** Token headers of a request admitted against the lease: Redis's last value minus the lease left. */
  private localHeaders(counters: Counter[], now: number): Record<string, string> {
    const tpm = counters.find((c) => c.kind === "tokens-per-minute");
    const state = tpm ? this.book.get(tpm.key) : undefined;
    return tpm && state ? tokenHeaders(tpm, state.shared - state.available, now) : {};
  }

  private heldOn(
    key: VerifiedKey,
    counters: Counter[],
    headers: Record<string, string>,
    expiry: Promise<void> | null = null,
  ): SpendHold {
    let done = false;
    const apply = async (deltas: number[]) => {
      if (done) return;
      done = true;
      counters.forEach((c, i) => {
        if (deltas[i]) this.book.settle(c, owner(key), deltas[i]);
      });
      await Promise.all([deltas.some((d) => d !== 0) ? this.scheduleFlush() : null, expiry]);
    };
    return {
      headers,
      settle: async (report) => {
        if (!report) {
          done = true;
          await expiry;
          return;
        }
        await apply(
          counters.map((c) => {
            const actual = c.metric === "usd" ? Math.round(report.usd * nanoPerUsd) : report.tokens;
            return actual - c.amount;
          }),
        );
      },
      release: () => apply(counters.map((c) => -c.amount)),
    };
  }

  /** A soft budget whose counter is now past the limit: reported to the pool once per period. */
  private reportSoftPassed(who: CounterOwner, counter: Counter, value: number): void {
    const budget = counter.budget;
    if (budget?.mode !== "soft" || inUnits(counter, value) <= budget.limit) return;
    const once = `${budget.id}:${counter.periodStart}`;
    if (this.alerted.has(once)) return;
    if (this.alerted.size > 10_000) this.alerted.clear();
    this.alerted.add(once);
    const work = this.options
      .onSoftPassed({
        budget_id: budget.id,
        tenant: who.tenantId,
        key_id: budget.scope === "key" ? who.keyId : "",
        period_start: counter.periodStart,
        spent: inUnits(counter, value),
        limit: budget.limit,
      })
      .catch(() => this.alerted.delete(once));
    this.options.background?.("budget alert", work);
  }
}

function owner(key: VerifiedKey): CounterOwner {
  return { tenantId: key.tenantId, keyId: key.keyId };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
