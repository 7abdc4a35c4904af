ALTER TABLE "requests" DROP CONSTRAINT "requests_pkey";--> statement-breakpoint
ALTER TABLE "requests" ADD COLUMN "client_request_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "requests_tenant_request_idx" ON "requests" USING btree ("tenant_id","request_id");--> statement-breakpoint
CREATE INDEX "requests_tenant_client_request_idx" ON "requests" USING btree ("tenant_id","client_request_id") WHERE "requests"."client_request_id" is not null;
