import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { withPostgres } from "../db/client.ts";
import { type DriftStateRow, driftState, modelVersions, registryAudit, registryTiers } from "../db/schema.ts";

/** A tier the job watches: its active version, whether it can roll back and whether it is pinned. */
export interface WatchedTier {
  tier: string;
  activeVersion: string;
  hasPrevious: boolean;
  pinned: boolean;
}

/** Tiers with an active version (optionally only the named ones). */
export async function watchedTiers(db: Database, only?: readonly string[]): Promise<WatchedTier[]> {
  return withPostgres(async () => {
    const tiers = await db
      .select({ name: registryTiers.name, pinned: registryTiers.pinned })
      .from(registryTiers)
      .where(only ? inArray(registryTiers.name, [...only]) : undefined);
    if (tiers.length === 0) return [];
    const versions = await db
      .select({ tier: modelVersions.tier, name: modelVersions.name, status: modelVersions.status })
      .from(modelVersions)
      .where(
        and(
          inArray(
            modelVersions.tier,
            tiers.map((t) => t.name),
          ),
          inArray(modelVersions.status, ["active", "previous"]),
        ),
      );
    return tiers.flatMap((t) => {
      const active = versions.find((v) => v.tier === t.name && v.status === "active");
      if (!active) return [];
      const hasPrevious = versions.some((v) => v.tier === t.name && v.status === "previous");
      return [{ tier: t.name, activeVersion: active.name, hasPrevious, pinned: t.pinned }];
    });
  });
}

export async function loadDriftState(db: Database, tier: string): Promise<DriftStateRow | undefined> {
  const rows = await withPostgres(() => db.select().from(driftState).where(eq(driftState.tier, tier)));
  return rows[0];
}

export type DriftStateUpdate = Omit<DriftStateRow, "updatedAt">;

export async function saveDriftState(db: Database, state: DriftStateUpdate): Promise<void> {
  const row = { ...state, updatedAt: new Date() };
  await withPostgres(() =>
    db.insert(driftState).values(row).onConflictDoUpdate({ target: driftState.tier, set: row }),
  );
}

/** A pin or unpin of a tier, with who did it and why (for the audit row). */
export interface PinChange {
  tier: string;
  pinned: boolean;
  actor: string;
  reason: string;
}

/**
 * Sets or clears the manual pin of a tier (the CLI's `pin` / `unpin`), with an audit row. While pinned,
 * the drift job alerts but never rolls the tier back. Returns false for an unknown tier.
 */
export async function setPinned(db: Database, change: PinChange): Promise<boolean> {
  const { tier, pinned, actor, reason } = change;
  return withPostgres(() =>
    db.transaction(async (tx) => {
      const rows = await tx
        .update(registryTiers)
        .set({ pinned })
        .where(eq(registryTiers.name, tier))
        .returning({ name: registryTiers.name });
      if (rows.length === 0) return false;
      await tx.insert(registryAudit).values({
        tier,
        action: pinned ? "pin" : "unpin",
        fromVersion: null,
        toVersion: null,
        actor,
        reason,
      });
      return true;
    }),
  );
}
