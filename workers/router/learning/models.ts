import { eq } from "drizzle-orm";
import { type Database, withPostgres } from "../../db/client.ts";
import { routerModels, routingAudit } from "../../db/schema.ts";
import { type RouterModel, routerModelSchema } from "../difficulty/model.ts";

/**
 * Stores a trained router model as a version in the registry; with `activate` it becomes the active one
 * (the one before becomes `previous`), with an audit row. Storing a version again replaces its weights.
 */
export async function storeRouterModel(
  db: Database,
  model: RouterModel,
  options: { activate: boolean; actor: string; reason: string },
): Promise<void> {
  await withPostgres(() =>
    db.transaction(async (tx) => {
      await tx
        .insert(routerModels)
        .values({ version: model.version, kind: model.kind, model })
        .onConflictDoUpdate({ target: routerModels.version, set: { kind: model.kind, model } });
      if (!options.activate) return;
      const [current] = await tx
        .select({ version: routerModels.version })
        .from(routerModels)
        .where(eq(routerModels.status, "active"));
      if (current?.version === model.version) return;
      await tx.update(routerModels).set({ status: "retired" }).where(eq(routerModels.status, "previous"));
      if (current)
        await tx
          .update(routerModels)
          .set({ status: "previous" })
          .where(eq(routerModels.version, current.version));
      await tx
        .update(routerModels)
        .set({ status: "active", activatedAt: new Date() })
        .where(eq(routerModels.version, model.version));
      await tx.insert(routingAudit).values({
        action: "activate_router_model",
        fromValue: current?.version ?? null,
        toValue: model.version,
        actor: options.actor,
        reason: options.reason,
      });
    }),
  );
}

/** The active router model's version, or undefined when the registry has none. */
export async function activeRouterModelVersion(db: Database): Promise<string | undefined> {
  const rows = await withPostgres(() =>
    db.select({ version: routerModels.version }).from(routerModels).where(eq(routerModels.status, "active")),
  );
  return rows[0]?.version;
}

/** Loads one stored version (validated); undefined when absent. */
export async function loadRouterModel(db: Database, version: string): Promise<RouterModel | undefined> {
  const rows = await withPostgres(() =>
    db.select({ model: routerModels.model }).from(routerModels).where(eq(routerModels.version, version)),
  );
  return rows[0] ? routerModelSchema.parse(rows[0].model) : undefined;
}

/**
 * Retires the active router model (audited): workers fall back to the bundled one on their next poll.
 * Returns the retired version, or undefined when none was active.
 */
export async function retireActiveRouterModel(
  db: Database,
  options: { actor: string; reason: string },
): Promise<string | undefined> {
  return withPostgres(() =>
    db.transaction(async (tx) => {
      const [current] = await tx
        .update(routerModels)
        .set({ status: "retired" })
        .where(eq(routerModels.status, "active"))
        .returning({ version: routerModels.version });
      if (!current) return undefined;
      await tx.insert(routingAudit).values({
        action: "retire_router_model",
        fromValue: current.version,
        toValue: null,
        actor: options.actor,
        reason: options.reason,
      });
      return current.version;
    }),
  );
}
