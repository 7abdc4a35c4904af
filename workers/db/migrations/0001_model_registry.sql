CREATE TYPE "public"."model_version_status" AS ENUM('active', 'previous', 'candidate', 'retired');--> statement-breakpoint
CREATE TABLE "model_endpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"version_id" text NOT NULL,
	"provider" text DEFAULT 'openai-compatible' NOT NULL,
	"base_url" text NOT NULL,
	"model" text NOT NULL,
	"api_key_name" text,
	"metrics_url" text DEFAULT '' NOT NULL,
	"completions" boolean DEFAULT true NOT NULL,
	"weight" real DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" text PRIMARY KEY NOT NULL,
	"tier" text NOT NULL,
	"name" text NOT NULL,
	"status" "model_version_status" DEFAULT 'candidate' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status_changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registry_audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"tier" text NOT NULL,
	"action" text NOT NULL,
	"from_version" text,
	"to_version" text,
	"actor" text NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registry_tiers" (
	"name" text PRIMARY KEY NOT NULL,
	"rank" integer NOT NULL,
	"kind" text NOT NULL,
	"tasks" text[] NOT NULL,
	"budget_ms" integer NOT NULL,
	"timeout_ms" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "model_endpoints" ADD CONSTRAINT "model_endpoints_version_id_model_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."model_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_tier_registry_tiers_name_fk" FOREIGN KEY ("tier") REFERENCES "public"."registry_tiers"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_endpoints_version_idx" ON "model_endpoints" USING btree ("version_id");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_tier_name_idx" ON "model_versions" USING btree ("tier","name");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_one_active_idx" ON "model_versions" USING btree ("tier") WHERE "model_versions"."status" = 'active';--> statement-breakpoint
CREATE INDEX "registry_audit_tier_at_idx" ON "registry_audit" USING btree ("tier","at");