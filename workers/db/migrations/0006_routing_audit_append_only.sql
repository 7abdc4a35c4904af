-- The routing audit log is append-only: updates and deletes are refused by the database itself.
CREATE OR REPLACE FUNCTION routing_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'routing_audit is append-only';
END;
$$ LANGUAGE plpgsql;--> statement-breakpoint
CREATE TRIGGER routing_audit_no_update_or_delete
  BEFORE UPDATE OR DELETE ON "routing_audit"
  FOR EACH ROW EXECUTE FUNCTION routing_audit_append_only();
