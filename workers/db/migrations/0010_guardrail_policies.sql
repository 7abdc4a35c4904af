CREATE TABLE IF NOT EXISTS "guardrail_policies" (
	"tenant_id" text NOT NULL,
	"key_id" text DEFAULT '' NOT NULL,
	"guardrails" jsonb,
	"contract" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "guardrail_policies_tenant_id_key_id_pk" PRIMARY KEY("tenant_id","key_id")
);
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "guardrail_policies" ADD CONSTRAINT "guardrail_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
