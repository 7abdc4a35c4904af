import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

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
    /** Null: never expires. An expired key is refused like an unknown one (401). */
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    rotatedAt: timestamp("rotated_at", { withTimezone: true }),
    /** After a rotation, the old secret's hash, accepted until `previousKeyExpiresAt`. */
    previousKeyHash: text("previous_key_hash"),
    previousKeyExpiresAt: timestamp("previous_key_expires_at", { withTimezone: true }),
  },
  (table) => [
    index("api_keys_tenant_id_idx").on(table.tenantId),
    uniqueIndex("api_keys_previous_key_hash_idx")
      .on(table.previousKeyHash)
      .where(sql`${table.previousKeyHash} is not null`),
  ],
);

export const adminRole = pgEnum("admin_role", ["admin", "tenant-admin", "viewer"]);

/**
 * Admin credentials (`tga_…`), stored as SHA-256 like API keys. `tenant-admin` always has a tenant;
 * `admin` never; a `viewer` with a tenant reads that tenant only, without one every tenant.
 */
export const adminKeys = pgTable("admin_keys", {
  id: text("id").primaryKey(),
  keyHash: text("key_hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  name: text("name").notNull(),
  role: adminRole("role").notNull(),
  tenantId: text("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
  status: apiKeyStatus("status").notNull().default("active"),
  /** Who created it: an admin key's actor, or `cli:<user>` for the bootstrap. */
  createdBy: text("created_by").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp("expires_at", { withTimezone: true }),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
});

/** Append-only log of every admin change (a trigger refuses update, delete and truncate). No secrets. */
export const adminAudit = pgTable(
  "admin_audit",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    actor: text("actor").notNull(),
    actorRole: text("actor_role").notNull(),
    tenantId: text("tenant_id"),
    action: text("action").notNull(),
    target: text("target").notNull(),
    before: jsonb("before"),
    after: jsonb("after"),
    requestId: text("request_id"),
  },
  (table) => [index("admin_audit_tenant_idx").on(table.tenantId, table.id)],
);

/**
 * One row per gateway request, unique by (tenant, the server's request id): a client can neither choose
 * the id nor collide with another tenant. The client's own `x-request-id`, when it sent one, is kept
 * as `client_request_id` (feedback may name a request by it). A log table: no foreign keys, so writes
 * stay cheap and rows outlive their keys; tenant is null for requests rejected before authentication.
 */
export const requests = pgTable(
  "requests",
  {
    requestId: text("request_id").notNull(),
    tenantId: text("tenant_id"),
    clientRequestId: text("client_request_id"),
    keyId: text("key_id"),
    model: text("model"),
    tier: text("tier"),
    status: integer("status").notNull(),
    /** Cache outcome, e.g. "hit", "miss", "bypass". */
    cache: text("cache"),
    latencyMs: real("latency_ms").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("requests_tenant_request_idx").on(table.tenantId, table.requestId),
    index("requests_tenant_created_idx").on(table.tenantId, table.createdAt),
    index("requests_tenant_client_request_idx")
      .on(table.tenantId, table.clientRequestId)
      .where(sql`${table.clientRequestId} is not null`),
  ],
);

// The model registry: versions per tier, their endpoints, and an append-only audit of every change.

export const modelVersionStatus = pgEnum("model_version_status", [
  "active",
  "previous",
  "candidate",
  "retired",
]);

/** Model tiers (registry): cost rank, kind, the tasks they handle, latency budget and per-attempt timeout. */
export const registryTiers = pgTable("registry_tiers", {
  name: text("name").primaryKey(),
  rank: integer("rank").notNull(),
  /** "chat" or "embeddings". */
  kind: text("kind").notNull(),
  tasks: text("tasks").array().notNull(),
  budgetMs: integer("budget_ms").notNull(),
  timeoutMs: integer("timeout_ms").notNull(),
  /** A manual pin: the drift job never rolls a pinned tier back (`npm run registry -- pin <tier>`). */
  pinned: boolean("pinned").notNull().default(false),
});

/** Versions of a tier's model. At most one per tier is `active` (partial unique index). */
export const modelVersions = pgTable(
  "model_versions",
  {
    id: text("id").primaryKey(),
    tier: text("tier")
      .notNull()
      .references(() => registryTiers.name),
    /** The version's name, e.g. "smollm2-135m-q4@1"; clients may request it as `model`. */
    name: text("name").notNull(),
    status: modelVersionStatus("status").notNull().default("candidate"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    statusChangedAt: timestamp("status_changed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("model_versions_tier_name_idx").on(table.tier, table.name),
    uniqueIndex("model_versions_one_active_idx").on(table.tier).where(sql`${table.status} = 'active'`),
  ],
);

/** OpenAI-compatible endpoints serving a version, with balancing weights. Keys are named, never stored. */
export const modelEndpoints = pgTable(
  "model_endpoints",
  {
    id: text("id").primaryKey(),
    versionId: text("version_id")
      .notNull()
      .references(() => modelVersions.id, { onDelete: "cascade" }),
    provider: text("provider").notNull().default("openai-compatible"),
    baseUrl: text("base_url").notNull(),
    /** The served model name upstream. */
    model: text("model").notNull(),
    /** Name of the key in PROVIDER_API_KEYS / VLLM_<TIER>_API_KEY; null = no key. */
    apiKeyName: text("api_key_name"),
    metricsUrl: text("metrics_url").notNull().default(""),
    completions: boolean("completions").notNull().default(true),
    weight: real("weight").notNull().default(1),
    /** Provider settings (Azure `apiVersion`, Bedrock `region`); null for OpenAI-compatible endpoints. */
    options: jsonb("options").$type<{ apiVersion?: string; region?: string }>(),
  },
  (table) => [index("model_endpoints_version_idx").on(table.versionId)],
);

/**
 * The model catalog: a named model is a registry tier row (kind `model`, versioned, promoted and rolled
 * back like a tier) plus what routing needs to know about it. Prices are not here: they are kept per
 * model version with their history by the spend module (keyed by `model_versions.id`).
 */
export const catalogModels = pgTable("catalog_models", {
  name: text("name")
    .primaryKey()
    .references(() => registryTiers.name, { onDelete: "cascade" }),
  aliases: text("aliases").array().notNull().default(sql`'{}'`),
  /** The tier whose `auto` routing this model's endpoints also serve; null: only by name. */
  autoTier: text("auto_tier").references(() => registryTiers.name),
  contextWindow: integer("context_window").notNull(),
  /** Subset of tools, vision, json_schema, embeddings. */
  capabilities: text("capabilities").array().notNull().default(sql`'{}'`),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Append-only log of every change of a tier's active version: who, when, why, from → to. */
export const registryAudit = pgTable(
  "registry_audit",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    tier: text("tier").notNull(),
    action: text("action").notNull(),
    fromVersion: text("from_version"),
    toVersion: text("to_version"),
    actor: text("actor").notNull(),
    reason: text("reason").notNull(),
  },
  (table) => [index("registry_audit_tier_at_idx").on(table.tier, table.at)],
);

// Drift detection: per-tier drift state and the lease that keeps one drift run at a time.

/**
 * The drift job's memory per tier: which version it watches, that version's reference window (the first
 * full window with enough traffic after promotion; its events stay in ClickHouse) and the rollback state
 * machine (windows seen, consecutive breaches, cooldown end).
 */
export const driftState = pgTable("drift_state", {
  tier: text("tier").primaryKey(),
  modelVersion: text("model_version").notNull(),
  referenceFrom: timestamp("reference_from", { withTimezone: true, mode: "date" }),
  referenceTo: timestamp("reference_to", { withTimezone: true, mode: "date" }),
  window: integer("window").notNull().default(0),
  breaches: integer("breaches").notNull().default(0),
  cooldownUntil: integer("cooldown_until").notNull().default(0),
  /** End of the last evaluated window: a second run for the same window does nothing. */
  lastWindowEnd: timestamp("last_window_end", { withTimezone: true, mode: "date" }),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Named leases (one row each): a job runs only while its holder owns the unexpired row. */
export const jobLeases = pgTable("job_leases", {
  name: text("name").primaryKey(),
  holder: text("holder").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
});

// Routing: the difficulty classifier's versions and per-tenant adjustments learned from feedback.

/**
 * Versions of the routing classifier (trained weights as JSON, `workers/router/difficulty/model.ts`). At
 * most one is `active`; workers without one route with the bundled default.
 */
export const routerModels = pgTable(
  "router_models",
  {
    version: text("version").primaryKey(),
    kind: text("kind").notNull(),
    /** "active", "previous" or "candidate". */
    status: text("status").notNull().default("candidate"),
    model: jsonb("model").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    activatedAt: timestamp("activated_at", { withTimezone: true }),
  },
  (table) => [
    uniqueIndex("router_models_one_active_idx").on(table.status).where(sql`${table.status} = 'active'`),
  ],
);

/**
 * What feedback taught the router per tenant and task class: `shift` tiers above (or below, when
 * negative) the classifier's choice, and the state machine behind it (windows seen, streaks of low and
 * of high-rated windows, the cooldown's end).
 */
export const routeAdjustments = pgTable(
  "route_adjustments",
  {
    tenant: text("tenant").notNull(),
    taskClass: text("task_class").notNull(),
    shift: integer("shift").notNull().default(0),
    window: integer("window").notNull().default(0),
    lowStreak: integer("low_streak").notNull().default(0),
    highStreak: integer("high_streak").notNull().default(0),
    cooldownUntil: integer("cooldown_until").notNull().default(0),
    lastWindowEnd: timestamp("last_window_end", { withTimezone: true, mode: "date" }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.tenant, table.taskClass] })],
);

/** Append-only log of routing changes: router model activations and per-tenant adjustments. */
export const routingAudit = pgTable(
  "routing_audit",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /** Empty for changes that apply to every tenant (a router model activation). */
    tenant: text("tenant").notNull().default(""),
    taskClass: text("task_class").notNull().default(""),
    action: text("action").notNull(),
    fromValue: text("from_value"),
    toValue: text("to_value"),
    actor: text("actor").notNull(),
    reason: text("reason").notNull(),
  },
  (table) => [index("routing_audit_tenant_at_idx").on(table.tenant, table.at)],
);

/**
 * Guardrail policy and input contract per tenant (`key_id` = '') and per key (the key's own, which
 * overrides the tenant's field by field). Both are JSON validated by shared/guardrails on write.
 */
export const guardrailPolicies = pgTable(
  "guardrail_policies",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    keyId: text("key_id").notNull().default(""),
    guardrails: jsonb("guardrails"),
    contract: jsonb("contract"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.keyId] })],
);

export type RouteAdjustmentRow = typeof routeAdjustments.$inferSelect;
export type RoutingAuditRow = typeof routingAudit.$inferSelect;

export type DriftStateRow = typeof driftState.$inferSelect;

export type ModelVersionRow = typeof modelVersions.$inferSelect;
export type ModelEndpointRow = typeof modelEndpoints.$inferSelect;
export type RegistryTierRow = typeof registryTiers.$inferSelect;
export type RegistryAuditRow = typeof registryAudit.$inferSelect;

export type Tenant = typeof tenants.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;
export type AdminKey = typeof adminKeys.$inferSelect;
export type AdminAuditRow = typeof adminAudit.$inferSelect;
export type NewApiKey = typeof apiKeys.$inferInsert;
export type RequestRow = typeof requests.$inferSelect;
export type NewRequestRow = typeof requests.$inferInsert;

export type CatalogModelRow = typeof catalogModels.$inferSelect;

/**
 * Per tenant (`key_id` '') and per key: the semantic cache and payload logging. A key's non-null
 * column overrides the tenant's; both null means the default (off, the deployment's threshold and
 * retention).
 */
export const responseDataSettings = pgTable(
  "response_data_settings",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    keyId: text("key_id").notNull().default(""),
    semanticCacheEnabled: boolean("semantic_cache_enabled"),
    semanticCacheThreshold: real("semantic_cache_threshold"),
    payloadLoggingEnabled: boolean("payload_logging_enabled"),
    payloadLogRetentionDays: integer("payload_log_retention_days"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.keyId] })],
);

export type ResponseDataSettingsRow = typeof responseDataSettings.$inferSelect;

/**
 * Responses API answers kept for `GET /v1/responses/{id}` and `previous_response_id` (only requests
 * with `store: true`), keyed per tenant: ids come from the upstream's answer, so they are unique only
 * within what one tenant saw. `input_items` is the whole conversation the response answered (the chain it
 * continued included); `response` is the response object sent. Rows past `expires_at` are invisible
 * and deleted by the cleanup.
 */
export const storedResponses = pgTable(
  "stored_responses",
  {
    id: text("id").notNull(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    keyId: text("key_id"),
    model: text("model").notNull(),
    previousResponseId: text("previous_response_id"),
    inputItems: jsonb("input_items").$type<unknown[]>().notNull(),
    response: jsonb("response").$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.id] }),
    index("stored_responses_expires_at_idx").on(table.expiresAt),
  ],
);

export type StoredResponseRow = typeof storedResponses.$inferSelect;
export * from "./spend-schema.ts";
