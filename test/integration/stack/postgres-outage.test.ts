import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { createDatabase, type DatabaseHandle, withPostgres } from "../../../workers/db/client.ts";
import { tenants } from "../../../workers/db/schema.ts";
import { neonProxyService, postgresService } from "../../stack/services/postgres.ts";
import { ensureLocalDatabase, localDbConfig, uniqueId } from "../db/local-db.ts";

describe("Postgres outage and restart", () => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    await ensureLocalDatabase();
    handle = createDatabase({ ...localDbConfig, connectionTimeoutMs: 3_000 });
  });
  afterAll(async () => {
    await postgresService.start();
    await neonProxyService.start();
    await handle?.close();
  });

  it("keeps data across a stop and start", async () => {
    const id = uniqueId("tenant");
    await handle.db.insert(tenants).values({ id, name: "durable" });
    await postgresService.stop();
    expect(await postgresService.healthy()).toBe(false);
    await postgresService.start();
    const rows = await withPostgres(() => handle.db.select().from(tenants).where(eq(tenants.id, id)));
    expect(rows).toMatchObject([{ id, name: "durable" }]);
  });

  it("fails with a retryable DependencyError while Postgres is stopped, and works again after a restart", async () => {
    await postgresService.stop();
    try {
      const error = await withPostgres(() => handle.pool.query("SELECT 1")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DependencyError);
      expect(error).toMatchObject({ dependency: "postgres", retryable: true });
    } finally {
      await postgresService.start();
    }
    const { rows } = await withPostgres(() => handle.pool.query<{ one: number }>("SELECT 1 AS one"));
    expect(rows).toEqual([{ one: 1 }]);
  });

  it("fails with a retryable DependencyError while the WebSocket proxy is stopped", async () => {
    await neonProxyService.stop();
    try {
      const error = await withPostgres(() => handle.pool.query("SELECT 1")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DependencyError);
      expect(error).toMatchObject({ dependency: "postgres", retryable: true });
    } finally {
      await neonProxyService.start();
    }
  });
});
