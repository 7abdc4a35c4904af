import {
  bigserial,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

// Spend: model prices with history, budgets, their alerts, and per-key token limits.

/**
 * USD per million tokens of a model version, append-only (a trigger refuses updates and deletes): the
 * price of a request is the row with the latest `effective_from` not after the request's time.
 */
export const modelPrices = pgTable(
  "model_prices",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tier: text("tier").notNull(),
    /** The version's name, as `model_versions.name` and the event's `model_version`. */
    version: text("version").notNull(),
    inputPerMillion: doublePrecision("input_per_million").notNull(),
    outputPerMillion: doublePrecision("output_per_million").notNull(),
    cachedPerMillion: doublePrecision("cached_per_million").notNull(),
    effectiveFrom: timestamp("effective_from", { withTimezone: true }).notNull().defaultNow(),
    actor: text("actor").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("model_prices_version_from_idx").on(table.tier, table.version, table.effectiveFrom)],
);

/** Budgets of a tenant (`key_id` = '') or of one key: one per (metric, period) and scope. */
export const budgets = pgTable(
  "budgets",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    keyId: text("key_id").notNull().default(""),
    /** "usd" or "tokens". */
    metric: text("metric").notNull(),
    /** "day", "month" or "total". */
    period: text("period").notNull(),
    limitValue: doublePrecision("limit_value").notNull(),
    /** "hard" or "soft". */
    mode: text("mode").notNull(),
    /** Soft budgets: called once per period when the limit is passed; null: BUDGET_WEBHOOK_URL. */
    webhookUrl: text("webhook_url"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("budgets_scope_idx").on(table.tenantId, table.keyId, table.metric, table.period)],
);

/** A soft budget passed its limit: one row per budget and period, with the webhook's answer status. */
export const budgetAlerts = pgTable(
  "budget_alerts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    budgetId: text("budget_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    keyId: text("key_id").notNull().default(""),
    periodStart: timestamp("period_start", { withTimezone: true }).notNull(),
    spent: doublePrecision("spent").notNull(),
    limitValue: doublePrecision("limit_value").notNull(),
    /** The webhook's HTTP status; null when there was none to call, 0 when it could not be reached. */
    webhookStatus: integer("webhook_status"),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("budget_alerts_once_idx").on(table.budgetId, table.periodStart)],
);

/** Token limits and the rate-limit mode of a tenant (`key_id` = '', the default) or a key. */
export const spendSettings = pgTable(
  "spend_settings",
  {
    tenantId: text("tenant_id").notNull(),
    keyId: text("key_id").notNull().default(""),
    tokensPerMinute: integer("tokens_per_minute"),
    /** "fast" or "exact"; null: fast. */
    rateLimitMode: text("rate_limit_mode"),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.keyId] })],
);

export type ModelPriceRow = typeof modelPrices.$inferSelect;
export type BudgetRow = typeof budgets.$inferSelect;
export type BudgetAlertRow = typeof budgetAlerts.$inferSelect;
export type SpendSettingsRow = typeof spendSettings.$inferSelect;
