CREATE TABLE "drift_state" (
	"tier" text PRIMARY KEY NOT NULL,
	"model_version" text NOT NULL,
	"reference_from" timestamp with time zone,
	"reference_to" timestamp with time zone,
	"window" integer DEFAULT 0 NOT NULL,
	"breaches" integer DEFAULT 0 NOT NULL,
	"cooldown_until" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "registry_tiers" ADD COLUMN "pinned" boolean DEFAULT false NOT NULL;