import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { migratePostgres } from "../../../workers/db/migrate.ts";
import { localDbConfig, useLocalDatabase } from "./local-db.ts";

const journal = JSON.parse(
  readFileSync(new URL("../../../workers/db/migrations/meta/_journal.json", import.meta.url), "utf8"),
) as { entries: { tag: string }[] };

describe("Postgres migrations", () => {
  const database = useLocalDatabase();

  it("are idempotent: applying them twice (also concurrently) records each migration once", async () => {
    await migratePostgres(localDbConfig);
    await Promise.all([migratePostgres(localDbConfig), migratePostgres(localDbConfig)]);
    const { rows } = await database().pool.query<{ count: string }>(
      "SELECT count(*) AS count FROM drizzle.__drizzle_migrations",
    );
    expect(Number(rows[0]?.count)).toBe(journal.entries.length);
  });

  it("create the schema's tables and the key status enum", async () => {
    const { rows } = await database().pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(["api_keys", "requests", "tenants"]),
    );
    const { rows: labels } = await database().pool.query<{ enumlabel: string }>(
      "SELECT enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'api_key_status' ORDER BY enumsortorder",
    );
    expect(labels.map((l) => l.enumlabel)).toEqual(["active", "revoked"]);
  });
});
