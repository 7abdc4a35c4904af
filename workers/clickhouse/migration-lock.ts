import { z } from "zod";
import { DependencyError } from "../../shared/dependency-error.ts";
import { withRetry } from "../../shared/retry.ts";
import type { ClickHouse } from "./client.ts";

/** Where the lock lives, and how long a holder may keep it before it counts as dead. */
export interface MigrationLockOptions {
  database: string;
  /** ` ON CLUSTER name` in cluster mode, else empty. */
  onCluster?: string;
  /** A lock older than this was left by a crashed run and is broken. Default 10 minutes. */
  staleAfterMs?: number;
  /** How long to wait for a live holder. Default 2 minutes. */
  waitMs?: number;
}

const lockTable = "schema_migrations_lock";
const lockAgeRow = z.object({ age_s: z.coerce.number() });

function isAlreadyExists(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : String(error);
  return /TABLE_ALREADY_EXISTS|already exists/i.test(text);
}

async function breakIfStale(ch: ClickHouse, options: MigrationLockOptions): Promise<void> {
  const rows = await ch.query(
    "SELECT toUInt32(now() - metadata_modification_time) AS age_s FROM system.tables WHERE database = {db:String} AND name = {name:String}",
    { db: options.database, name: lockTable },
    lockAgeRow,
  );
  const age = rows[0]?.age_s;
  if (age !== undefined && age * 1000 > (options.staleAfterMs ?? 600_000)) {
    await ch.command(`DROP TABLE IF EXISTS {db:Identifier}.${lockTable}${options.onCluster ?? ""}`, {
      db: options.database,
    });
  }
}

/**
 * Runs `work` while holding the migration lock: a table whose plain `CREATE` (no IF NOT EXISTS) only one
 * caller can win, dropped afterwards. ClickHouse has no row-level compare-and-set, but DDL on one table
 * name is atomic. A lock left by a crashed run is broken after `staleAfterMs`.
 */
export async function withMigrationLock<T>(
  ch: ClickHouse,
  options: MigrationLockOptions,
  work: () => Promise<T>,
): Promise<T> {
  const params = { db: options.database };
  const contended = new DependencyError("clickhouse", true, "migration lock held by another run");
  await withRetry(
    async () => {
      try {
        await ch.command(
          `CREATE TABLE {db:Identifier}.${lockTable}${options.onCluster ?? ""} (holder String) ENGINE = Memory`,
          params,
        );
      } catch (error: unknown) {
        if (!isAlreadyExists(error)) throw error;
        await breakIfStale(ch, options);
        throw contended;
      }
    },
    {
      attempts: Math.max(1, Math.ceil((options.waitMs ?? 120_000) / 500)),
      baseDelayMs: 100,
      maxDelayMs: 500,
      shouldRetry: (error) => error === contended,
    },
  );
  try {
    return await work();
  } finally {
    await ch.command(`DROP TABLE IF EXISTS {db:Identifier}.${lockTable}${options.onCluster ?? ""}`, params);
  }
}
