import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/neon-serverless";
import { migrate } from "drizzle-orm/neon-serverless/migrator";
import { createDatabase, withPostgres } from "./client.ts";

const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));
/** Arbitrary constant key of the advisory lock that serializes concurrent migrators. */
const migrationLockKey = 7_240_917_001;

/**
 * Applies the drizzle-kit migrations in workers/db/migrations. Idempotent; concurrent callers
 * (the stack CLI, a test, a worker) take turns on a Postgres advisory lock.
 */
export async function migratePostgres(config: { databaseUrl: string; wsProxy?: string }): Promise<void> {
  const handle = createDatabase({ ...config, maxConnections: 1 });
  try {
    await withPostgres(async () => {
      const client = await handle.pool.connect();
      try {
        await client.query("SELECT pg_advisory_lock($1)", [migrationLockKey]);
        try {
          // A single client keeps the lock and drizzle's migration transaction on one session.
          await migrate(drizzle({ client }), { migrationsFolder });
        } finally {
          await client.query("SELECT pg_advisory_unlock($1)", [migrationLockKey]);
        }
      } finally {
        client.release();
      }
    });
  } finally {
    await handle.close();
  }
}

if (import.meta.main) {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    process.stderr.write("migrate: set DATABASE_URL (and NEON_WS_PROXY for a local proxy)\n");
    process.exit(78);
  }
  const wsProxy = process.env.NEON_WS_PROXY;
  await migratePostgres(wsProxy ? { databaseUrl, wsProxy } : { databaseUrl });
  process.stdout.write("postgres migrations applied\n");
}
