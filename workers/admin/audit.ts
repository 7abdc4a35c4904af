import { and, desc, eq, lt } from "drizzle-orm";
import { type Database, withPostgres } from "../db/client.ts";
import { adminAudit } from "../db/schema.ts";

/** Who made a change: an admin credential's id and role, or `cli:<user>` with role `cli`. */
export interface Actor {
  actor: string;
  actorRole: string;
  requestId?: string | null;
}

/** One audit row to append. `before`/`after` are summaries: never a secret or a key hash. */
export interface AuditEntry extends Actor {
  tenantId: string | null;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

/** Appends a row to `admin_audit` (the database refuses updates and deletes of it). */
export async function appendAudit(db: Database, entry: AuditEntry): Promise<void> {
  await withPostgres(() =>
    db.insert(adminAudit).values({
      actor: entry.actor,
      actorRole: entry.actorRole,
      tenantId: entry.tenantId,
      action: entry.action,
      target: entry.target,
      before: entry.before ?? null,
      after: entry.after ?? null,
      requestId: entry.requestId ?? null,
    }),
  );
}

/** A page of the audit log, newest first: of one tenant, or (tenant undefined) all of it. */
export async function listAudit(db: Database, query: { tenant?: string; limit: number; beforeId?: number }) {
  const conditions = [
    query.tenant === undefined ? undefined : eq(adminAudit.tenantId, query.tenant),
    query.beforeId === undefined ? undefined : lt(adminAudit.id, query.beforeId),
  ];
  const rows = await withPostgres(() =>
    db
      .select()
      .from(adminAudit)
      .where(and(...conditions))
      .orderBy(desc(adminAudit.id))
      .limit(query.limit),
  );
  return rows.map((row) => ({
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    actor_role: row.actorRole,
    tenant_id: row.tenantId,
    action: row.action,
    target: row.target,
    before: row.before,
    after: row.after,
    request_id: row.requestId,
  }));
}
