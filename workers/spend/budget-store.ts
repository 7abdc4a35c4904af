import { and, eq, inArray, sql } from "drizzle-orm";
import type { Budget, RateLimitMode } from "../../shared/schemas/spend.ts";
import { type Database, withPostgres } from "../db/client.ts";
import { type BudgetRow, budgetAlerts, budgets, spendSettings } from "../db/schema.ts";

/** A budget to set: on a tenant (no `keyId`) or one key; replaces the one of the same scope, metric and period. */
export interface BudgetInput {
  tenantId: string;
  keyId?: string | undefined;
  metric: Budget["metric"];
  period: Budget["period"];
  limit: number;
  mode: Budget["mode"];
  webhookUrl?: string | null | undefined;
}

/** Token limit and rate-limit mode of a tenant (no `keyId`: its default) or a key. */
export interface SpendSettingsInput {
  tenantId: string;
  keyId?: string | undefined;
  tokensPerMinute?: number | null | undefined;
  rateLimitMode?: RateLimitMode | null | undefined;
}

/** What the edge applies to one key: budgets of the key and its tenant, token limit, mode. */
export interface KeySpendSettings {
  budgets: Budget[];
  tokensPerMinute: number | null;
  rateLimitMode: RateLimitMode | null;
}

/** A soft budget's first crossing in a period. */
export interface AlertInput {
  budgetId: string;
  tenantId: string;
  keyId: string;
  periodStart: Date;
  spent: number;
  limit: number;
}

/**
 * Budgets, spend settings and budget alerts in Postgres: the store the CLI, the pool's key
 * verification and the admin API share.
 */
export interface BudgetStore {
  setBudget(input: BudgetInput): Promise<BudgetRow>;
  /** A tenant's budgets (tenant-wide and per key). */
  listBudgets(tenantId: string): Promise<BudgetRow[]>;
  budget(id: string): Promise<BudgetRow | undefined>;
  setSettings(input: SpendSettingsInput): Promise<void>;
  /** What applies to `keyId`: its own settings over its tenant's defaults. */
  forKey(tenantId: string, keyId: string): Promise<KeySpendSettings>;
  /** Records the alert once per budget and period; false when it was already recorded. */
  recordAlert(input: AlertInput): Promise<{ id: number } | null>;
  setWebhookStatus(alertId: number, status: number | null): Promise<void>;
}

function toBudget(row: BudgetRow): Budget {
  return {
    id: row.id,
    scope: row.keyId === "" ? "tenant" : "key",
    metric: row.metric as Budget["metric"],
    period: row.period as Budget["period"],
    limit: row.limitValue,
    mode: row.mode as Budget["mode"],
  };
}

/** The BudgetStore over Postgres (migration 0008). */
export class PostgresBudgetStore implements BudgetStore {
  constructor(private readonly db: Database) {}

  async setBudget(input: BudgetInput): Promise<BudgetRow> {
    const keyId = input.keyId ?? "";
    const values = {
      id: `bud_${crypto.randomUUID().replaceAll("-", "")}`,
      tenantId: input.tenantId,
      keyId,
      metric: input.metric,
      period: input.period,
      limitValue: input.limit,
      mode: input.mode,
      webhookUrl: input.webhookUrl ?? null,
    };
    const [row] = await withPostgres(() =>
      this.db
        .insert(budgets)
        .values(values)
        .onConflictDoUpdate({
          target: [budgets.tenantId, budgets.keyId, budgets.metric, budgets.period],
          set: {
            limitValue: values.limitValue,
            mode: values.mode,
            webhookUrl: values.webhookUrl,
            updatedAt: sql`now()`,
          },
        })
        .returning(),
    );
    if (!row) throw new Error("upsert into budgets returned no row");
    return row;
  }

  listBudgets(tenantId: string): Promise<BudgetRow[]> {
    return withPostgres(() => this.db.select().from(budgets).where(eq(budgets.tenantId, tenantId)));
  }

  async budget(id: string): Promise<BudgetRow | undefined> {
    const [row] = await withPostgres(() => this.db.select().from(budgets).where(eq(budgets.id, id)));
    return row;
  }

  async setSettings(input: SpendSettingsInput): Promise<void> {
    const set: Partial<typeof spendSettings.$inferInsert> = {};
    if (input.tokensPerMinute !== undefined) set.tokensPerMinute = input.tokensPerMinute;
    if (input.rateLimitMode !== undefined) set.rateLimitMode = input.rateLimitMode;
    const values = { tenantId: input.tenantId, keyId: input.keyId ?? "", ...set };
    await withPostgres(() =>
      Object.keys(set).length === 0
        ? this.db.insert(spendSettings).values(values).onConflictDoNothing()
        : this.db
            .insert(spendSettings)
            .values(values)
            .onConflictDoUpdate({ target: [spendSettings.tenantId, spendSettings.keyId], set }),
    );
  }

  async forKey(tenantId: string, keyId: string): Promise<KeySpendSettings> {
    const scopes = ["", keyId];
    const [budgetRows, settingRows] = await withPostgres(() =>
      Promise.all([
        this.db
          .select()
          .from(budgets)
          .where(and(eq(budgets.tenantId, tenantId), inArray(budgets.keyId, scopes))),
        this.db
          .select()
          .from(spendSettings)
          .where(and(eq(spendSettings.tenantId, tenantId), inArray(spendSettings.keyId, scopes))),
      ]),
    );
    const own = settingRows.find((row) => row.keyId === keyId);
    const tenant = settingRows.find((row) => row.keyId === "");
    return {
      budgets: budgetRows.map(toBudget),
      tokensPerMinute: own?.tokensPerMinute ?? tenant?.tokensPerMinute ?? null,
      rateLimitMode: ((own?.rateLimitMode ?? tenant?.rateLimitMode) as RateLimitMode | undefined) ?? null,
    };
  }

  async recordAlert(input: AlertInput): Promise<{ id: number } | null> {
    const [row] = await withPostgres(() =>
      this.db
        .insert(budgetAlerts)
        .values({
          budgetId: input.budgetId,
          tenantId: input.tenantId,
          keyId: input.keyId,
          periodStart: input.periodStart,
          spent: input.spent,
          limitValue: input.limit,
        })
        .onConflictDoNothing()
        .returning({ id: budgetAlerts.id }),
    );
    return row ?? null;
  }

  async setWebhookStatus(alertId: number, status: number | null): Promise<void> {
    await withPostgres(() =>
      this.db.update(budgetAlerts).set({ webhookStatus: status }).where(eq(budgetAlerts.id, alertId)),
    );
  }
}
