CREATE TABLE IF NOT EXISTS "stored_responses" (
	"id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"key_id" text,
	"model" text NOT NULL,
	"previous_response_id" text,
	"input_items" jsonb NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "stored_responses_tenant_id_id_pk" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "stored_responses_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE cascade
);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "stored_responses_expires_at_idx" ON "stored_responses" USING btree ("expires_at");
