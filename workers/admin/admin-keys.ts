import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import { type AdminPrincipal, type AdminRole, adminKeyPattern } from "../../shared/admin/rbac.ts";
import { GatewayError } from "../../shared/errors.ts";
import { sha256Hex } from "../../shared/signing.ts";
import { type Database, withPostgres } from "../db/client.ts";
import { type AdminKey, adminKeys } from "../db/schema.ts";
import { type Actor, appendAudit } from "./audit.ts";
import { iso, newId, randomSecret } from "./secrets.ts";
import { getTenant } from "./tenants.ts";

const adminKeyPrefix = "tga_";
const displayPrefixLength = adminKeyPrefix.length + 6;

/** An admin credential as the API shows it (no hash). */
export function adminKeyView(row: AdminKey) {
  return {
    id: row.id,
    prefix: row.prefix,
    name: row.name,
    role: row.role,
    tenant_id: row.tenantId,
    status: row.status,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    expires_at: iso(row.expiresAt),
    revoked_at: iso(row.revokedAt),
  };
}

/** What a new admin credential is. */
export interface NewAdminKey {
  name: string;
  role: AdminRole;
  /** Required for `tenant-admin`, refused for `admin`, optional for `viewer` (null: every tenant). */
  tenantId?: string | null;
  expiresInSeconds?: number;
}

function checkScope(input: NewAdminKey): string | null {
  const tenant = input.tenantId ?? null;
  if (input.role === "tenant-admin" && !tenant) {
    throw new GatewayError("BAD_REQUEST", "A tenant-admin needs a tenant.", { param: "tenant_id" });
  }
  if (input.role === "admin" && tenant) {
    throw new GatewayError("BAD_REQUEST", "An admin is global: leave tenant_id out.", { param: "tenant_id" });
  }
  return tenant;
}

/**
 * Creates an admin credential; the plaintext `key` is returned only here (Postgres keeps its sha256).
 * The CLI bootstraps the first one with database access; later ones come from the admin API.
 */
export async function createAdminKey(db: Database, input: NewAdminKey, actor: Actor) {
  const tenantId = checkScope(input);
  if (tenantId) await getTenant(db, tenantId);
  const key = randomSecret(adminKeyPrefix);
  const expiresAt = input.expiresInSeconds ? new Date(Date.now() + input.expiresInSeconds * 1000) : null;
  const row = await withPostgres(async () => {
    const [inserted] = await db
      .insert(adminKeys)
      .values({
        id: newId("adm"),
        keyHash: await sha256Hex(key),
        prefix: key.slice(0, displayPrefixLength),
        name: input.name,
        role: input.role,
        tenantId,
        createdBy: actor.actor,
        expiresAt,
      })
      .returning();
    return inserted;
  });
  if (!row) throw new Error("insert into admin_keys returned no row");
  const record = adminKeyView(row);
  await appendAudit(db, { ...actor, tenantId, action: "admin-key.create", target: row.id, after: record });
  return { key, record };
}

function principalOf(row: AdminKey): AdminPrincipal {
  return { id: row.id, name: row.name, role: row.role, tenantId: row.tenantId };
}

const usable = (now: Date) =>
  and(eq(adminKeys.status, "active"), or(isNull(adminKeys.expiresAt), gt(adminKeys.expiresAt, now)));

/** The active, unexpired admin credential with this sha256, or null. */
export async function authenticateAdminKey(db: Database, keyHash: string): Promise<AdminPrincipal | null> {
  const [row] = await withPostgres(() =>
    db
      .select()
      .from(adminKeys)
      .where(and(eq(adminKeys.keyHash, keyHash), usable(new Date())))
      .limit(1),
  );
  return row ? principalOf(row) : null;
}

/** The active, unexpired admin credential with this id, or null (the pool re-reads it on every call). */
export async function adminPrincipalById(db: Database, id: string): Promise<AdminPrincipal | null> {
  const [row] = await withPostgres(() =>
    db
      .select()
      .from(adminKeys)
      .where(and(eq(adminKeys.id, id), usable(new Date())))
      .limit(1),
  );
  return row ? principalOf(row) : null;
}

/** The sha256 of a bearer token shaped like an admin credential; null for anything else. */
export async function adminKeyHash(token: string): Promise<string | null> {
  return adminKeyPattern.test(token) ? sha256Hex(token) : null;
}

/** Every admin credential, oldest first. */
export async function listAdminKeys(db: Database) {
  const rows = await withPostgres(() => db.select().from(adminKeys).orderBy(asc(adminKeys.createdAt)));
  return rows.map(adminKeyView);
}

/** Revokes an admin credential (404 when unknown); audited. */
export async function revokeAdminKey(db: Database, id: string, actor: Actor) {
  const [row] = await withPostgres(() =>
    db
      .update(adminKeys)
      .set({ status: "revoked", revokedAt: new Date() })
      .where(and(eq(adminKeys.id, id), eq(adminKeys.status, "active")))
      .returning(),
  );
  if (!row) {
    const [existing] = await withPostgres(() => db.select().from(adminKeys).where(eq(adminKeys.id, id)));
    if (!existing) throw new GatewayError("NOT_FOUND", `No admin credential '${id}'.`);
    return adminKeyView(existing);
  }
  const record = adminKeyView(row);
  await appendAudit(db, {
    ...actor,
    tenantId: row.tenantId,
    action: "admin-key.revoke",
    target: id,
    before: { status: "active" },
    after: { status: "revoked" },
  });
  return record;
}
