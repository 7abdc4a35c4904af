import { afterAll, beforeAll } from "vitest";
import { createDatabase, type DatabaseHandle } from "../../../workers/db/client.ts";
import { migratePostgres } from "../../../workers/db/migrate.ts";
import {
  localDatabaseUrl,
  localWsProxy,
  neonProxyService,
  postgresService,
} from "../../stack/services/postgres.ts";

/** How tests reach the local Postgres: through the WebSocket proxy with the real Neon driver. */
export const localDbConfig = { databaseUrl: localDatabaseUrl, wsProxy: localWsProxy };

/** Brings Postgres and the proxy up (no-op when healthy) and applies migrations. */
export async function ensureLocalDatabase(): Promise<void> {
  await postgresService.start();
  await neonProxyService.start();
  await migratePostgres(localDbConfig);
}

/** A unique id so reruns against the same data never collide. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/**
 * For a describe block: brings the local database up and opens a handle before its tests, closes it
 * after them. Returns the handle's getter (the handle exists once the tests run).
 */
export function useLocalDatabase(): () => DatabaseHandle {
  let handle: DatabaseHandle | undefined;
  beforeAll(async () => {
    await ensureLocalDatabase();
    handle = createDatabase(localDbConfig);
  });
  afterAll(async () => {
    await handle?.close();
  });
  return () => {
    if (!handle) throw new Error("the local database is opened in beforeAll");
    return handle;
  };
}
