ALTER TABLE "requests" DROP CONSTRAINT IF EXISTS "requests_pkey";--> statement-breakpoint
ALTER TABLE "requests" DROP CONSTRAINT IF EXISTS "requests_tenant_id_request_id_pk";--> statement-breakpoint
ALTER TABLE "requests" ALTER COLUMN "tenant_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "requests" ADD COLUMN IF NOT EXISTS "client_request_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "requests_tenant_request_idx" ON "requests" USING btree ("tenant_id","request_id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "requests_tenant_client_request_idx" ON "requests" USING btree ("tenant_id","client_request_id") WHERE "requests"."client_request_id" is not null;
