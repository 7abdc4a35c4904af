import { index, integer, pgEnum, pgTable, real, text, timestamp } from "drizzle-orm/pg-core";

/** A customer of the gateway; API keys and request rows belong to one. */
export const tenants = pgTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const apiKeyStatus = pgEnum("api_key_status", ["active", "revoked"]);

/** Bearer keys. Only the SHA-256 (hex) of a key is stored; the plaintext is shown once at creation. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    keyHash: text("key_hash").notNull().unique(),
    /** The first characters of the key, for display ("tg_AbC1234…"). */
    prefix: text("prefix").notNull(),
    name: text("name").notNull(),
    status: apiKeyStatus("status").notNull().default("active"),
    rateLimitPerMinute: integer("rate_limit_per_minute").notNull().default(60),
    /** Null means every model is allowed. */
    allowedModels: text("allowed_models").array(),
    /** Null means the gateway's default cache TTL. */
    cacheTtlSeconds: integer("cache_ttl_seconds"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (table) => [index("api_keys_tenant_id_idx").on(table.tenantId)],
);

/**
 * One row per gateway request. A log table: no foreign keys, so writes stay cheap and rows outlive
 * their keys; tenant and key are null for requests rejected before authentication.
 */
export const requests = pgTable(
  "requests",
  {
    requestId: text("request_id").primaryKey(),
    tenantId: text("tenant_id"),
    keyId: text("key_id"),
    model: text("model"),
    tier: text("tier"),
    status: integer("status").notNull(),
    /** Cache outcome, e.g. "hit", "miss", "bypass". */
    cache: text("cache"),
    latencyMs: real("latency_ms").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("requests_tenant_created_idx").on(table.tenantId, table.createdAt)],
);

// The model registry (a later issue) gets its own tables here.

export type Tenant = typeof tenants.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;
export type NewApiKey = typeof apiKeys.$inferInsert;
export type RequestRow = typeof requests.$inferSelect;
export type NewRequestRow = typeof requests.$inferInsert;
