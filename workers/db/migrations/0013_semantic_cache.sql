CREATE TABLE IF NOT EXISTS "response_data_settings" (
	"tenant_id" text NOT NULL REFERENCES "tenants"("id") ON DELETE CASCADE,
	"key_id" text DEFAULT '' NOT NULL,
	"semantic_cache_enabled" boolean,
	"semantic_cache_threshold" real,
	"payload_logging_enabled" boolean,
	"payload_log_retention_days" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "response_data_settings_tenant_id_key_id_pk" PRIMARY KEY("tenant_id","key_id"),
	CONSTRAINT "response_data_settings_threshold_range" CHECK ("semantic_cache_threshold" IS NULL OR ("semantic_cache_threshold" >= 0 AND "semantic_cache_threshold" <= 1)),
	CONSTRAINT "response_data_settings_retention_range" CHECK ("payload_log_retention_days" IS NULL OR ("payload_log_retention_days" >= 1 AND "payload_log_retention_days" <= 3650))
);
