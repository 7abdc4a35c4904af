CREATE TABLE "model_prices" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tier" text NOT NULL,
	"version" text NOT NULL,
	"input_per_million" double precision NOT NULL,
	"output_per_million" double precision NOT NULL,
	"cached_per_million" double precision NOT NULL,
	"effective_from" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "model_prices_version_from_idx" ON "model_prices" USING btree ("tier","version","effective_from");--> statement-breakpoint
CREATE TABLE "budgets" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"key_id" text DEFAULT '' NOT NULL,
	"metric" text NOT NULL,
	"period" text NOT NULL,
	"limit_value" double precision NOT NULL,
	"mode" text NOT NULL,
	"webhook_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "budgets_scope_idx" ON "budgets" USING btree ("tenant_id","key_id","metric","period");--> statement-breakpoint
CREATE TABLE "budget_alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"budget_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"key_id" text DEFAULT '' NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"spent" double precision NOT NULL,
	"limit_value" double precision NOT NULL,
	"webhook_status" integer,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "budget_alerts_once_idx" ON "budget_alerts" USING btree ("budget_id","period_start");--> statement-breakpoint
CREATE TABLE "spend_settings" (
	"tenant_id" text NOT NULL,
	"key_id" text DEFAULT '' NOT NULL,
	"tokens_per_minute" integer,
	"rate_limit_mode" text,
	CONSTRAINT "spend_settings_tenant_id_key_id_pk" PRIMARY KEY("tenant_id","key_id")
);
--> statement-breakpoint
-- Prices are history: a new price is a new row with its effective_from, so past requests keep theirs.
CREATE OR REPLACE FUNCTION model_prices_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'model_prices is append-only';
END;
$$ LANGUAGE plpgsql;--> statement-breakpoint
CREATE TRIGGER model_prices_no_update_or_delete
  BEFORE UPDATE OR DELETE ON "model_prices"
  FOR EACH ROW EXECUTE FUNCTION model_prices_append_only();
