import { readdirSync, readFileSync } from "node:fs";
import { z } from "zod";
import { sha256HexSync } from "../lib/sha256.ts";
import { type ClickHouse, createClickHouse } from "./client.ts";
import { clickhouseConfig, localClickHouseUrl } from "./config.ts";
import { assertIdentifier } from "./identifier.ts";

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

/**
 * Creates `database`, its `schema_migrations` table, and applies the pending migrations in order.
 * Idempotent: applied versions are skipped (their files must not have changed), and every statement
 * uses IF NOT EXISTS so a migration interrupted half-way can run again. Not safe to run concurrently.
 * Statements name the database as `{db:Identifier}`, so `ch` may be connected to any database.
 */
export async function migrateClickHouse(ch: ClickHouse, database: string): Promise<void> {
  const params = { db: assertIdentifier(database, "database name") };
  await ch.command("CREATE DATABASE IF NOT EXISTS {db:Identifier}", params);
  await ch.command(
    `CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_migrations
     (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = ReplacingMergeTree ORDER BY version`,
    params,
  );
  const applied = new Map(
    (
      await ch.query(
        "SELECT version, name, checksum FROM {db:Identifier}.schema_migrations FINAL ORDER BY version",
        params,
        appliedRow,
      )
    ).map((row) => [row.version, row]),
  );
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
    for (const statement of migration.statements) await ch.command(statement, params);
    await ch.insert(`${database}.schema_migrations`, [
      { version: migration.version, name: migration.name, checksum: migration.checksum },
    ]);
  }
}

async function main(): Promise<void> {
  const env = process.env;
  const config = clickhouseConfig({ ...env, CLICKHOUSE_URL: env.CLICKHOUSE_URL ?? localClickHouseUrl });
  const database = config.database;
  // The target database may not exist yet: connect to `default`, which always does.
  const ch = createClickHouse({ ...config, database: "default" });
  try {
    await migrateClickHouse(ch, database);
    process.stdout.write(`clickhouse: migrations applied to ${database}\n`);
  } finally {
    await ch.close();
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`clickhouse migrate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
