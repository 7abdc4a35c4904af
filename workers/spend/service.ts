import type { RequestEvent } from "../../shared/events.ts";
import type { Logger } from "../../shared/logger.ts";
import type { VerifiedKey } from "../../shared/schemas/keys.ts";
import type { BudgetAlertRequest, SpendReport } from "../../shared/schemas/spend.ts";
import type { Database } from "../db/client.ts";
import { type BudgetStore, PostgresBudgetStore } from "./budget-store.ts";
import { costUsd, listPrices, PriceBook, type PriceEntry } from "./prices.ts";

/** Options of {@link createSpendService}. */
export interface SpendServiceOptions {
  db: Database;
  logger: Logger;
  refreshMs: number;
  webhookUrl?: string | undefined;
  webhookTimeoutMs: number;
  /** The price history's source (Postgres `model_prices` by default). */
  loadPrices?: () => Promise<PriceEntry[]>;
  store?: BudgetStore;
}

/** What happened to a budget alert the edge reported. */
export type AlertOutcome = { recorded: false } | { recorded: true; webhookStatus: number | null };

/** The pool's spend side: costing events, the spend settings of a key, and soft-budget alerts. */
export interface SpendService {
  prices: PriceBook;
  budgets: BudgetStore;
  /** The event with its key and its cost at the registry's price for the served version at `ts`. */
  charge(event: RequestEvent, keyId: string | null): RequestEvent;
  /** The key with its budgets, token limit and rate-limit mode filled in. */
  withSettings(key: VerifiedKey): Promise<VerifiedKey>;
  /** Records a soft budget's alert once per period and calls its webhook. */
  alert(request: BudgetAlertRequest): Promise<AlertOutcome>;
  /** Re-reads the price history now (also done every `refreshMs`). */
  refresh(): Promise<void>;
  close(): void;
}

/** What an event's cost report to the edge says: USD and tokens billed. */
export function spendReportOf(event: RequestEvent): SpendReport {
  return { usd: event.cost_usd ?? 0, tokens: event.prompt_tokens + event.completion_tokens };
}

/** Calls a budget webhook with the alert as JSON; the HTTP status, or 0 when it could not be reached. */
async function callWebhook(url: string, body: unknown, timeoutMs: number): Promise<number> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    return response.status;
  } catch {
    return 0;
  }
}

/** Builds the pool's spend service and starts its price refresh. */
export function createSpendService(options: SpendServiceOptions): SpendService {
  const prices = new PriceBook();
  const store = options.store ?? new PostgresBudgetStore(options.db);
  const load = options.loadPrices ?? (() => listPrices(options.db));
  const refresh = async () => {
    try {
      prices.update(await load());
    } catch (error: unknown) {
      options.logger.warn("price history not refreshed", { error: String(error) });
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), options.refreshMs);
  timer.unref?.();

  return {
    prices,
    budgets: store,
    charge(event, keyId) {
      const price = prices.priceAt(event.tier, event.model_version, event.ts);
      const usage = {
        promptTokens: event.prompt_tokens,
        completionTokens: event.completion_tokens,
        cachedTokens: event.cached_tokens ?? 0,
      };
      return {
        ...event,
        key_id: keyId ?? "",
        cost_usd: price ? costUsd(price, usage) : 0,
        usage_source: event.usage_source ?? (usage.promptTokens + usage.completionTokens > 0 ? "usage" : ""),
      };
    },
    async withSettings(key) {
      const settings = await store.forKey(key.tenantId, key.keyId);
      return {
        ...key,
        budgets:
          settings.budgets.length > 0 ? { limits: settings.budgets, priceCeiling: prices.ceiling() } : null,
        tokensPerMinute: settings.tokensPerMinute,
        rateLimitMode: settings.rateLimitMode,
      };
    },
    async alert(request) {
      const budget = await store.budget(request.budget_id);
      if (!budget || budget.tenantId !== request.tenant) return { recorded: false };
      const recorded = await store.recordAlert({
        budgetId: budget.id,
        tenantId: budget.tenantId,
        keyId: request.key_id,
        periodStart: new Date(request.period_start),
        spent: request.spent,
        limit: budget.limitValue,
      });
      if (!recorded) return { recorded: false };
      const url = budget.webhookUrl ?? options.webhookUrl;
      const status = url
        ? await callWebhook(
            url,
            {
              type: "budget.soft_limit_passed",
              budget_id: budget.id,
              tenant: budget.tenantId,
              key_id: request.key_id,
              metric: budget.metric,
              period: budget.period,
              period_start: new Date(request.period_start).toISOString(),
              spent: request.spent,
              limit: budget.limitValue,
            },
            options.webhookTimeoutMs,
          )
        : null;
      await store.setWebhookStatus(recorded.id, status);
      return { recorded: true, webhookStatus: status };
    },
    refresh,
    close: () => clearInterval(timer),
  };
}
