ALTER TABLE "model_endpoints" ADD COLUMN IF NOT EXISTS "options" jsonb;--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "catalog_models" (
	"name" text PRIMARY KEY NOT NULL,
	"aliases" text[] DEFAULT '{}' NOT NULL,
	"auto_tier" text,
	"context_window" integer NOT NULL,
	"capabilities" text[] DEFAULT '{}' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "catalog_models_name_registry_tiers_name_fk" FOREIGN KEY ("name") REFERENCES "registry_tiers"("name") ON DELETE cascade,
	CONSTRAINT "catalog_models_auto_tier_registry_tiers_name_fk" FOREIGN KEY ("auto_tier") REFERENCES "registry_tiers"("name"),
	CONSTRAINT "catalog_models_context_window_check" CHECK ("context_window" > 0)
);
