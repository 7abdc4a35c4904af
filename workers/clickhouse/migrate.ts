import { readdirSync, readFileSync } from "node:fs";
import { z } from "zod";
import { sha256HexSync } from "../lib/sha256.ts";
import type { ClickHouse } from "./client.ts";
import { adaptStatement, type DdlMode, migrationsTableStatement } from "./ddl-modes.ts";
import { assertIdentifier } from "./identifier.ts";
import { withMigrationLock } from "./migration-lock.ts";

/** One versioned migration file: `NNNN_name.sql`, statements separated by `;` at the end of a line. */
export interface ClickHouseMigration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

const migrationsDir = new URL("./migrations/", import.meta.url);
const fileNamePattern = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Splits a migration file into statements, dropping `--` comment lines. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n");
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

/** The migrations shipped in ./migrations, ordered by version. */
export function loadMigrations(): ClickHouseMigration[] {
  const migrations = readdirSync(migrationsDir)
    .filter((file) => file.endsWith(".sql"))
    .map((file) => {
      const match = fileNamePattern.exec(file);
      if (!match?.[1] || !match[2]) throw new Error(`bad ClickHouse migration file name: ${file}`);
      const sql = readFileSync(new URL(file, migrationsDir), "utf8");
      return {
        version: Number.parseInt(match[1], 10),
        name: match[2],
        checksum: sha256HexSync(sql),
        statements: splitStatements(sql),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]?.version === m.version)
      throw new Error(`duplicate migration ${m.version}`);
  });
  return migrations;
}

const appliedRow = z.object({ version: z.number().int(), name: z.string(), checksum: z.string() });

/** Options of {@link migrateClickHouse}. */
export interface MigrateClickHouseOptions {
  /** The DDL layout (ddl-modes.ts); `single` by default. */
  mode?: DdlMode;
}

/**
 * Creates `database`, its `schema_migrations` table, and applies the pending migrations in order,
 * rewritten for `options.mode`. Idempotent: applied versions are skipped (their files must not have
 * changed), and every statement uses IF NOT EXISTS so a migration interrupted half-way can run again.
 * Concurrent runs serialise on a lock table (migration-lock.ts). Statements name the database as
 * `{db:Identifier}`, so `ch` may be connected to any database.
 */
export async function migrateClickHouse(
  ch: ClickHouse,
  database: string,
  options: MigrateClickHouseOptions = {},
): Promise<void> {
  const mode = options.mode ?? { kind: "single" };
  const params = { db: assertIdentifier(database, "database name") };
  const onCluster =
    mode.kind === "cluster" ? ` ON CLUSTER ${assertIdentifier(mode.cluster, "cluster name")}` : "";
  await ch.command(`CREATE DATABASE IF NOT EXISTS {db:Identifier}${onCluster}`, params);
  await withMigrationLock(ch, { database, onCluster }, async () => {
    await ch.command(migrationsTableStatement(mode, database), params);
    await applyPending(ch, { database, mode });
  });
}

async function appliedMigrations(ch: ClickHouse, database: string) {
  const rows = await ch.query(
    "SELECT version, name, checksum FROM {db:Identifier}.schema_migrations FINAL ORDER BY version",
    { db: database },
    appliedRow,
  );
  return new Map(rows.map((row) => [row.version, row]));
}

async function applyPending(ch: ClickHouse, target: { database: string; mode: DdlMode }): Promise<void> {
  const { database, mode } = target;
  const params = { db: database };
  const applied = await appliedMigrations(ch, database);
  for (const migration of loadMigrations()) {
    const done = applied.get(migration.version);
    if (done) {
      if (done.checksum !== migration.checksum) {
        throw new Error(
          `ClickHouse migration ${migration.version}_${migration.name} changed after it was applied; add a new migration instead`,
        );
      }
      continue;
    }
    for (const statement of migration.statements) {
      for (const adapted of adaptStatement(statement, mode, database)) await ch.command(adapted, params);
    }
    await ch.insert(`${database}.schema_migrations`, [
      { version: migration.version, name: migration.name, checksum: migration.checksum },
    ]);
  }
}
