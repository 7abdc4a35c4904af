/** `npm run migrate`: applies the Postgres (drizzle) and ClickHouse (versioned SQL) migrations. */
import { z } from "zod";
import { createClickHouse } from "../clickhouse/client.ts";
import { clickhouseConfig } from "../clickhouse/config.ts";
import { ddlModeFromEnv } from "../clickhouse/ddl-modes.ts";
import { migrateClickHouse } from "../clickhouse/migrate.ts";
import { migratePostgres } from "../db/migrate.ts";
import { workerEnvSchema } from "../pool/env.ts";
import { CliError, databaseEnvShape, loadScriptEnv, print, runScript } from "./lib/script-env.ts";

const usage = `usage: npm run migrate [-- postgres|clickhouse]

Applies the pending migrations of both stores (or of the one named). Idempotent; run it on deploy.
Environment: DATABASE_URL, NEON_WS_PROXY (local proxy only), CLICKHOUSE_URL (+ _USER, _PASSWORD,
_DATABASE), CLICKHOUSE_DDL_MODE (single|cloud|cluster|shards) and CLICKHOUSE_CLUSTER; from a checkout whose local stack is up, they come from the stack.`;

const stores = ["postgres", "clickhouse"] as const;
type Store = (typeof stores)[number];

const postgresEnvSchema = z.object(databaseEnvShape);
const clickhouseEnvSchema = workerEnvSchema.pick({
  CLICKHOUSE_URL: true,
  CLICKHOUSE_USER: true,
  CLICKHOUSE_PASSWORD: true,
  CLICKHOUSE_DATABASE: true,
});

async function migratePostgresStore(): Promise<void> {
  const env = loadScriptEnv(postgresEnvSchema);
  await migratePostgres({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  print("postgres: migrations applied");
}

async function migrateClickHouseStore(): Promise<void> {
  const env = loadScriptEnv(clickhouseEnvSchema);
  // Connected to `default`: the migrations create the target database first.
  const ch = createClickHouse({ ...clickhouseConfig(env), database: "default" });
  try {
    await migrateClickHouse(ch, env.CLICKHOUSE_DATABASE, { mode: ddlModeFromEnv(process.env) });
    print(`clickhouse: migrations applied to ${env.CLICKHOUSE_DATABASE}`);
  } finally {
    await ch.close();
  }
}

/** Migrates the stores named in `argv` (both when none is). */
export async function runMigrateCli(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    print(usage);
    return;
  }
  const unknown = argv.filter((a) => !stores.includes(a as Store));
  if (unknown.length > 0) throw new CliError(`unknown argument ${unknown.join(" ")}\n\n${usage}`);
  const selected = argv.length > 0 ? (argv as Store[]) : stores;
  if (selected.includes("postgres")) await migratePostgresStore();
  if (selected.includes("clickhouse")) await migrateClickHouseStore();
}

if (import.meta.main) await runScript("migrate", () => runMigrateCli(process.argv.slice(2)));
