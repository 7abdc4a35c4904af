-- The registry audit log is append-only: updates and deletes are refused by the database itself.
CREATE OR REPLACE FUNCTION registry_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'registry_audit is append-only';
END;
$$ LANGUAGE plpgsql;--> statement-breakpoint
CREATE TRIGGER registry_audit_no_update_or_delete
  BEFORE UPDATE OR DELETE ON "registry_audit"
  FOR EACH ROW EXECUTE FUNCTION registry_audit_append_only();
