import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadMigrations, migrateClickHouse } from "../../../workers/clickhouse/migrate.ts";
import { dropDatabase, ensureClickHouse, localClient, scratchDatabase } from "./local-clickhouse.ts";

const database = scratchDatabase("migrate");
const versionRow = z.object({ version: z.number(), name: z.string() });
const tableRow = z.object({ name: z.string(), engine: z.string() });

describe("ClickHouse migrations", () => {
  const ch = localClient("default");

  beforeAll(ensureClickHouse);
  afterAll(async () => {
    await ch.close();
    await dropDatabase(database);
  });

  async function applied() {
    return ch.query(
      "SELECT version, name FROM {db:Identifier}.schema_migrations FINAL ORDER BY version",
      { db: database },
      versionRow,
    );
  }

  it("creates the database, the events table and the per-minute rollup", async () => {
    await migrateClickHouse(ch, database);
    const tables = await ch.query(
      "SELECT name, engine FROM system.tables WHERE database = {db:String} ORDER BY name",
      { db: database },
      tableRow,
    );
    expect(tables).toEqual(
      expect.arrayContaining([
        { name: "events", engine: "ReplacingMergeTree" },
        { name: "events_by_minute", engine: "AggregatingMergeTree" },
        { name: "events_by_minute_mv", engine: "MaterializedView" },
        { name: "schema_migrations", engine: "ReplacingMergeTree" },
      ]),
    );
    expect(await applied()).toEqual(loadMigrations().map(({ version, name }) => ({ version, name })));
  });

  it("gives rag_chunks small compressed blocks (0013), so a scattered read decompresses little", async () => {
    const [table] = await ch.query(
      "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'rag_chunks'",
      { db: database },
      z.object({ engine_full: z.string() }),
    );
    expect(table?.engine_full).toContain("index_granularity = 128");
    expect(table?.engine_full).toContain("min_compress_block_size = 4096");
    expect(table?.engine_full).toContain("max_compress_block_size = 262144");
  });

  it("is idempotent: a second and third run change nothing", async () => {
    await migrateClickHouse(ch, database);
    await migrateClickHouse(ch, database);
    const [count] = await ch.query(
      "SELECT count() AS n FROM {db:Identifier}.schema_migrations",
      { db: database },
      z.object({ n: z.number() }),
    );
    expect(count?.n).toBe(loadMigrations().length);
  });

  it("refuses to run when an applied migration's file changed", async () => {
    await ch.insert(`${database}.schema_migrations`, [{ version: 1, name: "events", checksum: "edited" }]);
    await expect(migrateClickHouse(ch, database)).rejects.toThrow(/changed after it was applied/);
  });

  it("rejects a database name that is not an identifier", async () => {
    await expect(migrateClickHouse(ch, "tiergate; DROP DATABASE x")).rejects.toThrow(/invalid ClickHouse/);
  });
});
