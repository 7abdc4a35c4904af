import { describe, expect, it } from "vitest";
import {
  adaptStatement,
  type DdlMode,
  ddlModeFromEnv,
  migrationsTableStatement,
} from "../../../workers/clickhouse/ddl-modes.ts";
import { loadMigrations } from "../../../workers/clickhouse/migrate.ts";

const cluster: DdlMode = { kind: "cluster", cluster: "tiergate" };
const shards: DdlMode = { kind: "shards", cluster: "tiergate" };

/** Every statement of every shipped migration, rewritten for `mode`. */
function allStatements(mode: DdlMode): string[] {
  return loadMigrations().flatMap((m) => m.statements.flatMap((s) => adaptStatement(s, mode, "tiergate")));
}

const ddlVerb = /^(CREATE|ALTER|DROP)\b/i;

describe("ClickHouse DDL modes", () => {
  it("leaves the files as written in single and cloud mode", () => {
    const original = loadMigrations().flatMap((m) => m.statements);
    expect(allStatements({ kind: "single" })).toEqual(original);
    expect(allStatements({ kind: "cloud" })).toEqual(original);
  });

  it("runs every DDL statement ON CLUSTER and replicates every MergeTree table in cluster mode", () => {
    const statements = allStatements(cluster);
    const ddl = statements.filter((s) => ddlVerb.test(s));
    expect(ddl.length).toBeGreaterThan(20);
    for (const statement of ddl) expect(statement).toMatch(/tiergate\.\w+ ON CLUSTER tiergate\b/);
    for (const statement of statements) {
      for (const engine of statement.match(/ENGINE\s*=\s*\w+/g) ?? []) {
        expect(engine).toMatch(/Replicated\w*MergeTree|Distributed|Memory/);
      }
    }
    const events = statements.find((s) => s.includes(".events_local ON CLUSTER"));
    expect(events).toContain(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tiergate/events', '{replica}')",
    );
    const collections = statements.find((s) => s.includes(".rag_collections ON CLUSTER"));
    expect(collections).toContain(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/tiergate/rag_collections', '{replica}', updated_at)",
    );
  });

  it("shards the events and their rollups behind Distributed tables under the original names", () => {
    const statements = allStatements(cluster);
    expect(statements).toContain(
      "CREATE TABLE IF NOT EXISTS tiergate.events ON CLUSTER tiergate AS tiergate.events_local ENGINE = Distributed(tiergate, tiergate, events_local, cityHash64(event_id))",
    );
    for (const rollup of ["events_by_minute", "request_stats_1m", "request_stats_1h"]) {
      expect(statements.some((s) => s.includes(`tiergate.${rollup} ON CLUSTER tiergate AS`))).toBe(true);
    }
    const views = statements.filter((s) => /MATERIALIZED VIEW/i.test(s) && /events/.test(s));
    expect(views.length).toBeGreaterThanOrEqual(3);
    for (const view of views) {
      expect(view).toMatch(/TO tiergate\.\w+_local/);
      expect(view).toContain("FROM tiergate.events_local");
    }
  });

  it("adds a column to both the local and the Distributed events table", () => {
    const adapted = adaptStatement(
      "ALTER TABLE {db:Identifier}.events ADD COLUMN IF NOT EXISTS task LowCardinality(String) DEFAULT ''",
      cluster,
      "tiergate",
    );
    expect(adapted).toEqual([
      "ALTER TABLE tiergate.events_local ON CLUSTER tiergate ADD COLUMN IF NOT EXISTS task LowCardinality(String) DEFAULT ''",
      "ALTER TABLE tiergate.events ON CLUSTER tiergate ADD COLUMN IF NOT EXISTS task LowCardinality(String) DEFAULT ''",
    ]);
    const setting = adaptStatement(
      "ALTER TABLE {db:Identifier}.events MODIFY SETTING index_granularity = 128",
      cluster,
      "tiergate",
    );
    expect(setting).toEqual([
      "ALTER TABLE tiergate.events_local ON CLUSTER tiergate MODIFY SETTING index_granularity = 128",
    ]);
  });

  it("keeps the sharded layout but neither replication nor ON CLUSTER in shards mode", () => {
    const statements = allStatements(shards);
    expect(statements.some((s) => /ON CLUSTER|Replicated/.test(s))).toBe(false);
    expect(statements).toContain(
      "CREATE TABLE IF NOT EXISTS tiergate.events AS tiergate.events_local ENGINE = Distributed(tiergate, tiergate, events_local, cityHash64(event_id))",
    );
  });

  it("keeps the migrations table replicated but unsharded in cluster mode", () => {
    expect(migrationsTableStatement(cluster, "tiergate")).toContain(
      "ReplicatedReplacingMergeTree('/clickhouse/tables/tiergate/schema_migrations', '{replica}')",
    );
    expect(migrationsTableStatement({ kind: "single" }, "tiergate")).toContain(
      "ENGINE = ReplacingMergeTree ORDER BY",
    );
  });

  it("reads the mode from the environment and refuses an incomplete one", () => {
    expect(ddlModeFromEnv({})).toEqual({ kind: "single" });
    expect(ddlModeFromEnv({ CLICKHOUSE_CLUSTER: "c1" })).toEqual({ kind: "cluster", cluster: "c1" });
    expect(ddlModeFromEnv({ CLICKHOUSE_DDL_MODE: "cloud" })).toEqual({ kind: "cloud" });
    expect(() => ddlModeFromEnv({ CLICKHOUSE_DDL_MODE: "shards" })).toThrow(/CLICKHOUSE_CLUSTER/);
    expect(() =>
      adaptStatement(
        "CREATE TABLE IF NOT EXISTS tiergate.x (a UInt8) ENGINE = MergeTree ORDER BY a",
        { kind: "cluster", cluster: "bad name" },
        "tiergate",
      ),
    ).toThrow(/cluster name/);
  });
});
