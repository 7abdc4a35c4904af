import { assertIdentifier } from "./identifier.ts";

/**
 * How the migrations' DDL is laid out on a ClickHouse deployment.
 * - `single`: one server; the migration files as written.
 * - `cloud`: ClickHouse Cloud; its MergeTree tables are already replicated (SharedMergeTree) and its DDL
 *   reaches every replica, so the files run as written too.
 * - `cluster`: a self-managed cluster with Keeper/ZooKeeper. Every statement runs `ON CLUSTER`, every
 *   MergeTree-family engine becomes its `Replicated*` variant, and the high-volume tables (the request
 *   events and the rollups their materialized views feed) are sharded: a `<name>_local` table on each
 *   shard plus a `Distributed` table under the original name, so queries are unchanged.
 * - `shards`: the same sharded layout without replication or `ON CLUSTER`, applied to each server by the
 *   migrator itself. For clusters without Keeper (and the local sharded-pair test); unsharded tables
 *   then live on each server independently.
 */
export type DdlMode =
  | { kind: "single" }
  | { kind: "cloud" }
  | { kind: "cluster"; cluster: string; sharded?: readonly string[] }
  | { kind: "shards"; cluster: string; sharded?: readonly string[] };

/** Tables sharded in `cluster` and `shards` mode, with the Distributed sharding key of each. */
export const defaultShardedTables: Readonly<Record<string, string>> = {
  // Duplicates of one event fold in ReplacingMergeTree only on the same shard, so shard by event id.
  events: "cityHash64(event_id)",
  // Filled by materialized views on each shard's events; never inserted through the Distributed table.
  events_by_minute: "rand()",
  request_stats_1m: "rand()",
  request_stats_1h: "rand()",
  spend_daily: "rand()",
  spend_1m: "rand()",
};

const headerPattern =
  /^(CREATE\s+(?:OR\s+REPLACE\s+)?TABLE(?:\s+IF\s+NOT\s+EXISTS)?|CREATE\s+MATERIALIZED\s+VIEW(?:\s+IF\s+NOT\s+EXISTS)?|ALTER\s+TABLE|DROP\s+(?:TABLE|VIEW)(?:\s+IF\s+EXISTS)?)\s+\{db:Identifier\}\.(\w+)/i;
const enginePattern =
  /ENGINE\s*=\s*(Replacing|Aggregating|Summing|Collapsing|VersionedCollapsing)?MergeTree(?:\(([^)]*)\))?/i;
const tableRefPattern = /\{db:Identifier\}\.(\w+)/g;

interface Layout {
  database: string;
  cluster: string;
  onCluster: boolean;
  replicated: boolean;
  sharded: ReadonlySet<string>;
}

function shardingKey(table: string): string {
  return defaultShardedTables[table] ?? "rand()";
}

/** `Replacing` + args → `ReplicatedReplacingMergeTree('<path>', '{replica}', args)`. */
function replicatedEngine(layout: Layout, table: string, variant: string, args: string | undefined): string {
  const shard = layout.sharded.has(table) ? "{shard}/" : "";
  const path = `'/clickhouse/tables/${shard}${layout.database}/${table}'`;
  const rest = args?.trim() ? `, ${args.trim()}` : "";
  return `ENGINE = Replicated${variant}MergeTree(${path}, '{replica}'${rest})`;
}

/** Points references to sharded tables at their local tables (views fire on each shard's inserts). */
function localReferences(body: string, layout: Layout): string {
  return body.replace(tableRefPattern, (whole, name: string) =>
    layout.sharded.has(name) ? `{db:Identifier}.${name}_local` : whole,
  );
}

function withOnCluster(header: string, layout: Layout): string {
  return layout.onCluster ? `${header} ON CLUSTER ${layout.cluster}` : header;
}

function adaptCreateTable(statement: string, header: RegExpExecArray, layout: Layout): string[] {
  const [whole, verb, table = ""] = header;
  const sharded = layout.sharded.has(table);
  const name = sharded ? `${table}_local` : table;
  let body = statement.slice(whole.length);
  if (layout.replicated) {
    body = body.replace(enginePattern, (_m, variant: string | undefined, args: string | undefined) =>
      replicatedEngine(layout, table, variant ?? "", args),
    );
  }
  const local = `${withOnCluster(`${verb} {db:Identifier}.${name}`, layout)}${localReferences(body, layout)}`;
  if (!sharded) return [local];
  const distributed = `${withOnCluster(`CREATE TABLE IF NOT EXISTS {db:Identifier}.${table}`, layout)} AS {db:Identifier}.${name} ENGINE = Distributed(${layout.cluster}, ${layout.database}, ${name}, ${shardingKey(table)})`;
  return [local, distributed];
}

function adaptOther(statement: string, header: RegExpExecArray, layout: Layout): string[] {
  const [whole, verb = "", table = ""] = header;
  const body = statement.slice(whole.length);
  const isAlter = /^ALTER/i.test(verb);
  const isView = /MATERIALIZED\s+VIEW/i.test(verb);
  if (isAlter && layout.sharded.has(table)) {
    // The Distributed table must learn new columns too; settings and indexes belong to the local one.
    const local = `${withOnCluster(`${verb} {db:Identifier}.${table}_local`, layout)}${body}`;
    const columnChange = /^\s*(ADD|DROP|MODIFY|RENAME)\s+COLUMN/i.test(body);
    return columnChange
      ? [local, `${withOnCluster(`${verb} {db:Identifier}.${table}`, layout)}${body}`]
      : [local];
  }
  const rest = isView ? localReferences(body, layout) : body;
  return [`${withOnCluster(`${verb} {db:Identifier}.${table}`, layout)}${rest}`];
}

/**
 * Rewrites one migration statement for `mode`; one statement may become two (a sharded table's local
 * and Distributed tables). In `cluster` and `shards` mode the database name is written into the text.
 */
export function adaptStatement(statement: string, mode: DdlMode, database: string): string[] {
  if (mode.kind === "single" || mode.kind === "cloud") return [statement];
  const layout: Layout = {
    database: assertIdentifier(database, "database name"),
    cluster: assertIdentifier(mode.cluster, "cluster name"),
    onCluster: mode.kind === "cluster",
    replicated: mode.kind === "cluster",
    sharded: new Set(mode.sharded ?? Object.keys(defaultShardedTables)),
  };
  const header = headerPattern.exec(statement.trimStart());
  if (!header) return [statement];
  const trimmed = statement.trimStart();
  const adapted = /^CREATE\s+(OR\s+REPLACE\s+)?TABLE/i.test(header[1] ?? "")
    ? adaptCreateTable(trimmed, header, layout)
    : adaptOther(trimmed, header, layout);
  // Distributed DDL and `AS <table>` do not take query parameters: the database is written out.
  return adapted.map((text) => text.replaceAll("{db:Identifier}", layout.database));
}

/** The statement that creates the migrations' bookkeeping table in `mode`. */
export function migrationsTableStatement(mode: DdlMode, database: string): string {
  const statement = `CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_migrations
     (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = ReplacingMergeTree ORDER BY version`;
  const sharedMode = mode.kind === "cluster" ? { ...mode, sharded: [] } : mode;
  return adaptStatement(statement, sharedMode, database)[0] ?? statement;
}

/** Reads the mode from the environment: `CLICKHOUSE_DDL_MODE` (single|cloud|cluster|shards) and `CLICKHOUSE_CLUSTER`. */
export function ddlModeFromEnv(env: Readonly<Record<string, string | undefined>>): DdlMode {
  const cluster = env.CLICKHOUSE_CLUSTER;
  const kind = env.CLICKHOUSE_DDL_MODE ?? (cluster ? "cluster" : "single");
  if (kind === "single" || kind === "cloud") return { kind };
  if ((kind === "cluster" || kind === "shards") && cluster) return { kind, cluster };
  throw new Error(
    `CLICKHOUSE_DDL_MODE=${kind} needs ${kind === "cluster" || kind === "shards" ? "CLICKHOUSE_CLUSTER" : "one of single|cloud|cluster|shards"}`,
  );
}
