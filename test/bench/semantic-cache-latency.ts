/**
 * Lookup latency of the semantic cache store at N entries (default 100k) in one tenant's one partition
 * (the worst case: every entry shares model, parameters and system prompt), in a scratch database that
 * is dropped afterwards. Rows are generated server-side with clustered 384-d vectors (1000 clusters +
 * finer offsets + noise, as bench:retrieval does). Measures `ClickHouseSemanticStore.nearest` through
 * HNSW (what the pool uses above SEMANTIC_CACHE_EXACT_MAX_ROWS) and through an exact scan, plus the
 * partition count query (cached in the pool for 5 s) and `SELECT 1` (the round-trip floor). Query vectors
 * are stored vectors plus noise, precomputed: embedding time is not part of it.
 */
import { z } from "zod";
import type { ClickHouse } from "../../workers/clickhouse/client.ts";
import { loadMigrations } from "../../workers/clickhouse/migrate.ts";
import { normalise } from "../../workers/retrieval/model-clients.ts";
import { ClickHouseSemanticStore, type SemanticSearch } from "../../workers/semantic-cache/store.ts";

const scope = { tenant: "bench-latency", partition: "b".repeat(64), modelVersion: "synthetic@1" };

const generateSql = `
INSERT INTO semantic_cache (tenant, partition_key, model_version, prompt, response, embedding, expires_at)
SELECT 'bench-latency', repeat('b', 64), 'synthetic@1', concat('prompt ', toString(number)), '{}',
       arrayMap(i -> toFloat32(
                  (cityHash64(c, i) % 2001) / 1000.0 - 1
                + 0.6 * ((cityHash64(m, i, 5) % 2001) / 1000.0 - 1)
                + randNormal(0, 0.35)), range(384)),
       now64(3) + INTERVAL 1 DAY
FROM (SELECT number, number % 1000 AS c, number % 10000 AS m FROM numbers({from:UInt64}, {count:UInt64}))
SETTINGS max_insert_block_size = 1000000, min_insert_block_size_rows = 1000000, max_block_size = 65536`;

const vectorRow = z.object({ embedding: z.array(z.number()) });
const oneRow = z.object({ one: z.number() });

function gaussian(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const summary = (xs: number[]) => ({ p50_ms: round(percentile(xs, 50)), p95_ms: round(percentile(xs, 95)) });

/** Creates the scratch database with the semantic cache migrations and fills it with `entries` rows. */
export async function fillLatencyTable(
  admin: ClickHouse,
  ch: ClickHouse,
  options: { database: string; entries: number },
): Promise<number> {
  await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: options.database });
  await admin.command("CREATE DATABASE {db:Identifier}", { db: options.database });
  for (const migration of loadMigrations().filter((m) => m.version >= 20 && m.version <= 24)) {
    for (const statement of migration.statements) await admin.command(statement, { db: options.database });
  }
  const started = performance.now();
  const batch = 50_000;
  for (let from = 0; from < options.entries; from += batch) {
    await ch.command(generateSql, { from, count: Math.min(batch, options.entries - from) });
  }
  // One part, one HNSW graph: the state merges reach.
  await ch.command("OPTIMIZE TABLE semantic_cache FINAL");
  return (performance.now() - started) / 1000;
}

/** Times `queries` lookups (after 5 unmeasured ones) by each search strategy. */
export async function measureLookups(ch: ClickHouse, queries: number) {
  const store = new ClickHouseSemanticStore(ch);
  const samples = await ch.query(
    "SELECT embedding FROM semantic_cache ORDER BY cityHash64(prompt) LIMIT {n:UInt32}",
    { n: queries + 5 },
    vectorRow,
  );
  const vectors = samples.map((s) => normalise(s.embedding.map((x) => x + 0.35 * gaussian())));
  const timings: Record<SemanticSearch | "count" | "floor", number[]> = {
    hnsw: [],
    exact: [],
    count: [],
    floor: [],
  };
  let agree = 0;
  for (const [index, embedding] of vectors.entries()) {
    const counted = index >= 5;
    let t = performance.now();
    await ch.query("SELECT 1 AS one", {}, oneRow);
    if (counted) timings.floor.push(performance.now() - t);
    t = performance.now();
    await store.partitionSize(scope.tenant, scope.partition, scope.modelVersion);
    if (counted) timings.count.push(performance.now() - t);
    t = performance.now();
    const viaIndex = await store.nearest(scope, { embedding, k: 4, search: "hnsw" });
    if (counted) timings.hnsw.push(performance.now() - t);
    t = performance.now();
    const exact = await store.nearest(scope, { embedding, k: 4, search: "exact" });
    if (counted) timings.exact.push(performance.now() - t);
    if (viaIndex[0]?.prompt === exact[0]?.prompt) agree++;
  }
  return {
    queries: vectors.length - 5,
    hnsw: summary(timings.hnsw),
    exact: summary(timings.exact),
    partition_count: summary(timings.count),
    select_1_floor: summary(timings.floor),
    hnsw_top1_agrees_with_exact: round(agree / vectors.length),
  };
}
