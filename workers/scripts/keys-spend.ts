/** The spend part of `npm run keys`: budgets and token limits on `create`, and `spend`. */
import { z } from "zod";
import { createClickHouse } from "../clickhouse/client.ts";
import { clickhouseConfig, clickhouseEnvShape } from "../clickhouse/config.ts";
import type { Database } from "../db/client.ts";
import { PostgresBudgetStore } from "../spend/budget-store.ts";
import { querySpend, type SpendGrouping, spendGroupings } from "../spend/query.ts";
import { reconcileBudgets, upstashCounterStore } from "../spend/reconcile.ts";
import {
  CliError,
  countOption,
  loadScriptEnv,
  parseOptions,
  print,
  readStackEnv,
  stackEnvFile,
} from "./lib/script-env.ts";

export const spendUsage = `  create … [--budget-usd <usd>] [--budget-tokens <n>] [--budget-period day|month|total]
         [--budget-mode hard|soft] [--budget-webhook <url>] [--tokens-per-minute <n>]
         [--rate-limit-mode fast|exact]
         budgets on the new key (hard by default, per day by default); a soft budget writes an
         alert and calls its webhook (else BUDGET_WEBHOOK_URL) once per period when passed
  budget --tenant <id> [--key <key id>] (--budget-usd <usd> | --budget-tokens <n>) [--budget-period …]
         [--budget-mode …] [--budget-webhook <url>]
         sets a tenant-wide budget, or one key's; replaces the same scope, metric and period
  reconcile --tenant <id>
         raises the tenant's budget counters in the edge's Redis to the spend ClickHouse recorded
         (run it from cron; it never lowers a counter)
  spend  --tenant <id> [--key <key id>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--by key,model] [--json]
         spend from ClickHouse (today by default), per key and model unless --by says otherwise`;

/** The option names the spend commands read (added to the keys CLI's parser). */
export const spendOptionSpec = {
  "budget-usd": { type: "string" },
  "budget-tokens": { type: "string" },
  "budget-period": { type: "string" },
  "budget-mode": { type: "string" },
  "budget-webhook": { type: "string" },
  "tokens-per-minute": { type: "string" },
  "rate-limit-mode": { type: "string" },
  key: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  by: { type: "string" },
} as const;

const budgetOptions = z.object({
  "budget-usd": z.coerce.number({ message: "must be a number" }).positive("must be more than 0").optional(),
  "budget-tokens": countOption.optional(),
  "budget-period": z.enum(["day", "month", "total"]).default("day"),
  "budget-mode": z.enum(["hard", "soft"]).default("hard"),
  "budget-webhook": z.url().optional(),
  "tokens-per-minute": countOption.optional(),
  "rate-limit-mode": z.enum(["fast", "exact"]).optional(),
});

/** Applies the spend options of `create` (or `budget`) to a tenant or a key; prints what was set. */
export async function applySpendOptions(
  db: Database,
  scope: { tenantId: string; keyId?: string | undefined },
  raw: Record<string, unknown>,
): Promise<string[]> {
  const options = parseOptions(budgetOptions, raw, spendUsage);
  const store = new PostgresBudgetStore(db);
  const set: string[] = [];
  const base = {
    ...scope,
    period: options["budget-period"],
    mode: options["budget-mode"],
    webhookUrl: options["budget-webhook"] ?? null,
  };
  if (options["budget-usd"] !== undefined) {
    const row = await store.setBudget({ ...base, metric: "usd", limit: options["budget-usd"] });
    set.push(`budget ${row.id}: ${row.mode} $${row.limitValue} per ${row.period}`);
  }
  if (options["budget-tokens"] !== undefined) {
    const row = await store.setBudget({ ...base, metric: "tokens", limit: options["budget-tokens"] });
    set.push(`budget ${row.id}: ${row.mode} ${row.limitValue} tokens per ${row.period}`);
  }
  if (options["tokens-per-minute"] !== undefined || options["rate-limit-mode"] !== undefined) {
    await store.setSettings({
      ...scope,
      tokensPerMinute: options["tokens-per-minute"],
      rateLimitMode: options["rate-limit-mode"],
    });
    set.push(
      `limits: ${options["tokens-per-minute"] ?? "-"} tokens/min, mode ${options["rate-limit-mode"] ?? "-"}`,
    );
  }
  return set;
}

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "want YYYY-MM-DD");
const spendOptions = z.object({
  tenant: z.string().min(1),
  key: z.string().optional(),
  from: day.optional(),
  to: day.optional(),
  by: z
    .string()
    .default("key,model")
    .transform((s) => s.split(",").filter(Boolean))
    .pipe(z.array(z.enum(spendGroupings))),
  json: z.boolean().optional(),
});

/** `spend --tenant T`: the tenant's spend from ClickHouse's `spend_daily`. */
export async function spendCommand(raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(spendOptions, raw, spendUsage);
  const env = loadScriptEnv(z.object(clickhouseEnvShape));
  const ch = createClickHouse(clickhouseConfig(env));
  const today = new Date().toISOString().slice(0, 10);
  try {
    const rows = await querySpend(ch, {
      tenant: options.tenant,
      keyId: options.key,
      from: options.from ?? today,
      to: options.to ?? options.from ?? today,
      groupBy: options.by as SpendGrouping[],
    });
    if (options.json) {
      print(JSON.stringify(rows));
      return;
    }
    if (rows.length === 0) print(`no spend for tenant ${options.tenant} in that period`);
    for (const r of rows) {
      print(
        `${r.key_id || "*"}\t${r.model || "*"}\t${r.requests} requests\t${r.prompt_tokens}+${r.completion_tokens} tokens\t$${r.cost_usd.toFixed(6)}`,
      );
    }
  } finally {
    await ch.close();
  }
}

/** `reconcile --tenant T`: the tenant's budget counters raised to ClickHouse's recorded spend. */
export async function reconcileCommand(db: Database, tenant: string): Promise<void> {
  const stack = readStackEnv(stackEnvFile());
  const url = process.env.UPSTASH_REDIS_REST_URL || stack.UPSTASH_REDIS_REST_URL;
  const token = process.env.UPSTASH_REDIS_REST_TOKEN || stack.UPSTASH_REDIS_REST_TOKEN;
  if (!url || !token)
    throw new CliError("reconcile needs UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN");
  const env = loadScriptEnv(z.object(clickhouseEnvShape));
  const clickhouse = createClickHouse(clickhouseConfig(env));
  try {
    const budgets = await new PostgresBudgetStore(db).listBudgets(tenant);
    const done = await reconcileBudgets({ clickhouse, counters: upstashCounterStore(url, token) }, budgets);
    for (const r of done) print(`${r.budgetId}\trecorded ${r.recorded}\tcounter ${r.counter}`);
    if (done.length === 0) print(`no budgets for tenant ${tenant}`);
  } finally {
    await clickhouse.close();
  }
}
