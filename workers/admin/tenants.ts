import { asc, eq } from "drizzle-orm";
import { GatewayError } from "../../shared/errors.ts";
import { type Database, withPostgres } from "../db/client.ts";
import { type Tenant, tenants } from "../db/schema.ts";
import { type Actor, appendAudit } from "./audit.ts";

/** A tenant as the API shows it. */
export function tenantView(row: Tenant) {
  return { id: row.id, name: row.name, created_at: row.createdAt.toISOString() };
}

/** Every tenant, oldest first. */
export async function listTenants(db: Database) {
  const rows = await withPostgres(() => db.select().from(tenants).orderBy(asc(tenants.createdAt)));
  return rows.map(tenantView);
}

/** One tenant; 404 when unknown. */
export async function getTenant(db: Database, id: string) {
  const [row] = await withPostgres(() => db.select().from(tenants).where(eq(tenants.id, id)));
  if (!row) throw new GatewayError("NOT_FOUND", `No tenant '${id}'.`, { param: "tenant" });
  return tenantView(row);
}

/** Creates a tenant (400 when the id is taken); audited. */
export async function createTenant(db: Database, input: { id: string; name?: string }, actor: Actor) {
  const [row] = await withPostgres(() =>
    db
      .insert(tenants)
      .values({ id: input.id, name: input.name ?? input.id })
      .onConflictDoNothing({ target: tenants.id })
      .returning(),
  );
  if (!row) throw new GatewayError("BAD_REQUEST", `Tenant '${input.id}' already exists.`, { param: "id" });
  const view = tenantView(row);
  await appendAudit(db, { ...actor, tenantId: row.id, action: "tenant.create", target: row.id, after: view });
  return view;
}
