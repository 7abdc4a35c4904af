CREATE TABLE "route_adjustments" (
	"tenant" text NOT NULL,
	"task_class" text NOT NULL,
	"shift" integer DEFAULT 0 NOT NULL,
	"window" integer DEFAULT 0 NOT NULL,
	"low_streak" integer DEFAULT 0 NOT NULL,
	"high_streak" integer DEFAULT 0 NOT NULL,
	"cooldown_until" integer DEFAULT 0 NOT NULL,
	"last_window_end" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "route_adjustments_tenant_task_class_pk" PRIMARY KEY("tenant","task_class")
);
--> statement-breakpoint
CREATE TABLE "router_models" (
	"version" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'candidate' NOT NULL,
	"model" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"activated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "routing_audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"tenant" text DEFAULT '' NOT NULL,
	"task_class" text DEFAULT '' NOT NULL,
	"action" text NOT NULL,
	"from_value" text,
	"to_value" text,
	"actor" text NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "router_models_one_active_idx" ON "router_models" USING btree ("status") WHERE "router_models"."status" = 'active';--> statement-breakpoint
CREATE INDEX "routing_audit_tenant_at_idx" ON "routing_audit" USING btree ("tenant","at");