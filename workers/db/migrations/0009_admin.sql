-- Admin credentials with a role, key expiry and rotation, and an append-only audit of admin changes.
CREATE TYPE "public"."admin_role" AS ENUM('admin', 'tenant-admin', 'viewer');--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "admin_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"key_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"name" text NOT NULL,
	"role" "admin_role" NOT NULL,
	"tenant_id" text,
	"status" "api_key_status" DEFAULT 'active' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "admin_keys_key_hash_unique" UNIQUE("key_hash"),
	CONSTRAINT "admin_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade,
	CONSTRAINT "admin_keys_role_scope" CHECK ("role" <> 'tenant-admin' OR "tenant_id" IS NOT NULL),
	CONSTRAINT "admin_keys_admin_global" CHECK ("role" <> 'admin' OR "tenant_id" IS NULL)
);--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN IF NOT EXISTS "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN IF NOT EXISTS "rotated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN IF NOT EXISTS "previous_key_hash" text;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN IF NOT EXISTS "previous_key_expires_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "api_keys_previous_key_hash_idx" ON "api_keys" USING btree ("previous_key_hash") WHERE "previous_key_hash" is not null;--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "admin_audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"actor_role" text NOT NULL,
	"tenant_id" text,
	"action" text NOT NULL,
	"target" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"request_id" text
);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "admin_audit_tenant_idx" ON "admin_audit" USING btree ("tenant_id","id");--> statement-breakpoint
-- Append-only: updates and deletes are refused by the database itself.
CREATE OR REPLACE FUNCTION admin_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'admin_audit is append-only';
END;
$$ LANGUAGE plpgsql;--> statement-breakpoint
CREATE TRIGGER admin_audit_no_update_or_delete
  BEFORE UPDATE OR DELETE ON "admin_audit"
  FOR EACH ROW EXECUTE FUNCTION admin_audit_append_only();--> statement-breakpoint
CREATE TRIGGER admin_audit_no_truncate
  BEFORE TRUNCATE ON "admin_audit"
  FOR EACH STATEMENT EXECUTE FUNCTION admin_audit_append_only();
