import { and, eq, ne } from "drizzle-orm";
import { type Database, withPostgres } from "../../db/client.ts";
import { type RouteAdjustmentRow, routeAdjustments, routingAudit } from "../../db/schema.ts";

/** The key of a tenant's task class in a shift map. */
export function shiftKey(tenant: string, taskClass: string): string {
  return `${tenant}\u0000${taskClass}`;
}

/** Every non-zero learned shift, keyed by `shiftKey`. */
export async function loadShifts(db: Database): Promise<Map<string, number>> {
  const rows = await withPostgres(() =>
    db
      .select({
        tenant: routeAdjustments.tenant,
        taskClass: routeAdjustments.taskClass,
        shift: routeAdjustments.shift,
      })
      .from(routeAdjustments)
      .where(ne(routeAdjustments.shift, 0)),
  );
  return new Map(rows.map((r) => [shiftKey(r.tenant, r.taskClass), r.shift]));
}

/** The learning state of one tenant's task class, if it has one. */
export async function loadAdjustment(
  db: Database,
  tenant: string,
  taskClass: string,
): Promise<RouteAdjustmentRow | undefined> {
  const rows = await withPostgres(() =>
    db
      .select()
      .from(routeAdjustments)
      .where(and(eq(routeAdjustments.tenant, tenant), eq(routeAdjustments.taskClass, taskClass))),
  );
  return rows[0];
}

export type AdjustmentUpdate = Omit<RouteAdjustmentRow, "updatedAt">;

/**
 * Saves a tenant's task-class state; when `change` is given (the shift moved) an audit row is written
 * in the same transaction, so every routing change has its who, when and why.
 */
export async function saveAdjustment(
  db: Database,
  state: AdjustmentUpdate,
  change?: { from: number; actor: string; reason: string },
): Promise<void> {
  const row = { ...state, updatedAt: new Date() };
  await withPostgres(() =>
    db.transaction(async (tx) => {
      await tx
        .insert(routeAdjustments)
        .values(row)
        .onConflictDoUpdate({ target: [routeAdjustments.tenant, routeAdjustments.taskClass], set: row });
      if (!change) return;
      await tx.insert(routingAudit).values({
        tenant: state.tenant,
        taskClass: state.taskClass,
        action: state.shift > change.from ? "raise_tier" : "lower_tier",
        fromValue: String(change.from),
        toValue: String(state.shift),
        actor: change.actor,
        reason: change.reason,
      });
    }),
  );
}
