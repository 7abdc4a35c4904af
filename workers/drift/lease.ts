import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { withPostgres } from "../db/client.ts";
import { jobLeases } from "../db/schema.ts";

/**
 * Takes the named lease for `ttlMs` if nobody holds an unexpired one: one statement, so two callers at
 * the same moment cannot both win. Returns whether `holder` now holds it.
 */
export async function tryAcquireLease(
  db: Database,
  { name, holder, ttlMs }: { name: string; holder: string; ttlMs: number },
): Promise<boolean> {
  const expiresAt = sql`now() + ${`${ttlMs} milliseconds`}::interval`;
  const rows = await withPostgres(() =>
    db
      .insert(jobLeases)
      .values({ name, holder, expiresAt })
      .onConflictDoUpdate({
        target: jobLeases.name,
        set: { holder, expiresAt },
        where: sql`${jobLeases.expiresAt} < now()`,
      })
      .returning({ holder: jobLeases.holder }),
  );
  return rows[0]?.holder === holder;
}

/**
 * Gives the lease back (only if `holder` still holds it) by expiring it now. The row stays, so it also
 * tells who ran last and when that run ended.
 */
export async function releaseLease(db: Database, name: string, holder: string): Promise<void> {
  await withPostgres(() =>
    db
      .update(jobLeases)
      .set({ expiresAt: sql`now()` })
      .where(and(eq(jobLeases.name, name), eq(jobLeases.holder, holder))),
  );
}

/** The lease row: the current holder (while unexpired) or the last one and when its run ended. */
export async function readLease(
  db: Database,
  name: string,
): Promise<{ holder: string; expiresAt: Date } | undefined> {
  const rows = await withPostgres(() =>
    db
      .select({ holder: jobLeases.holder, expiresAt: jobLeases.expiresAt })
      .from(jobLeases)
      .where(eq(jobLeases.name, name)),
  );
  return rows[0];
}
