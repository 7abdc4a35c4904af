/**
 * Retrieval bench: synthetic chunks with clustered 384-d vectors and Zipf-distributed words at each size
 * (default 100k and 1M), in a scratch database that is dropped afterwards.
 *
 *   npm run bench:retrieval -- [--sizes 100000,1000000] [--queries 200]
 *
 * Rows are generated server-side (INSERT … SELECT from numbers(), 100k rows per insert, so each insert is
 * one part and builds one HNSW graph, two inserts at a time; merges are stopped so the graphs are not
 * rebuilt). Words: 24 per chunk from w0…w4999, P(index < x) = (x/5000)^(1/3); queries use the two rarest
 * words of a sampled chunk. Vectors:
 * centroid(cluster) + 0.5·offset(subcluster) + N(0, 0.1²) per component, 1000 clusters × 100 subclusters.
 * Measures insert throughput (index build included), hybrid top-10 latency (vector via HNSW + BM25 in
 * parallel, fused with RRF; the question embedding is not part of it) p50/p95, vector-only latency, and
 * recall@10 of the HNSW side against exact search (brute-force cosineDistance over the same scope).
 * Writes .stack/results/bench-retrieval.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { createClickHouse } from "../../workers/clickhouse/client.ts";
import { loadMigrations } from "../../workers/clickhouse/migrate.ts";
import { fuseRankings } from "../../workers/retrieval/fusion.ts";
import { normalise } from "../../workers/retrieval/model-clients.ts";
import { RetrievalStore, type SearchScope } from "../../workers/retrieval/store.ts";
import { repoRoot } from "../stack/paths.ts";
import { localClickHouse } from "../stack/services/clickhouse.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100000,1000000" },
    queries: { type: "string", default: "200" },
  },
});
const sizes = values.sizes.split(",").map((s) => Number.parseInt(s, 10));
const queryCount = Math.min(1000, Number.parseInt(values.queries, 10));
const database = "tiergate_rag_bench";
/** Rows per insert (one part, one HNSW graph); small enough that one insert stays well under a request timeout. */
const insertRows = 100_000;
const scope: SearchScope = { tenant: "bench", collection: "synthetic", modelVersion: "synthetic@1" };
const tuning = { candidateListSize: 128, fetchMultiplier: 1 };

const url = process.env.CLICKHOUSE_URL ?? localClickHouse.url;
const admin = createClickHouse({ ...localClickHouse, url, database: "default", requestTimeoutMs: 600_000 });
const ch = createClickHouse({ ...localClickHouse, url, database, requestTimeoutMs: 600_000 });
const store = new RetrievalStore(ch);

/** The rows numbered [from, from + count): one part. Values are code constants and parameters only. */
const generateSql = `
INSERT INTO rag_chunks (tenant, collection, model_version, document_id, chunk_id, chunk_index, source,
                        content_hash, text, token_count, metadata, embedding)
SELECT 'bench', 'synthetic', 'synthetic@1', concat('doc-', toString(intDiv(number, 4))), toString(number),
       toUInt32(number % 4), 'synthetic', repeat('0', 64), txt, toUInt32(length(words)), map('cluster', toString(c)),
       arrayMap(i -> toFloat32(
                  (cityHash64(c, i) % 2001) / 1000.0 - 1
                + 0.5 * ((cityHash64(s, i, 7) % 2001) / 1000.0 - 1)
                + randNormal(0, 0.1)), range(384))
FROM (
  SELECT number, number % 1000 AS c, number % 100000 AS s,
         arrayMap(j -> concat('w', toString(toUInt32(5000 * pow((cityHash64(number, j) % 100000) / 100000.0, 3)))),
                  range(24)) AS words,
         arrayStringConcat(words, ' ') AS txt
  FROM numbers({from:UInt64}, {count:UInt64})
)
SETTINGS max_insert_block_size = 1000000, min_insert_block_size_rows = 1000000, max_block_size = 65536`;

const vectorRow = z.object({ embedding: z.array(z.number()), text: z.string() });

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function gaussian(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

async function setup(): Promise<void> {
  await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: database });
  await admin.command("CREATE DATABASE {db:Identifier}", { db: database });
  const rag = loadMigrations().filter((m) => m.version >= 10 && m.version <= 19);
  for (const migration of rag)
    for (const statement of migration.statements) await admin.command(statement, { db: database });
  await admin.command("SYSTEM STOP MERGES {db:Identifier}.rag_chunks", { db: database });
}

/** Inserts [from, to) in parts of 100k rows, two inserts at a time (one per core). */
async function fill(from: number, to: number): Promise<number> {
  const started = performance.now();
  const starts: number[] = [];
  for (let start = from; start < to; start += insertRows) starts.push(start);
  const worker = async () => {
    for (let start = starts.shift(); start !== undefined; start = starts.shift()) {
      await ch.command(generateSql, { from: start, count: Math.min(insertRows, to - start) });
      process.stderr.write(`  inserted rows ${start}..${Math.min(to, start + insertRows)}\n`);
    }
  };
  await Promise.all([worker(), worker()]);
  return (performance.now() - started) / 1000;
}

async function measure(size: number) {
  const samples = await ch.query(
    "SELECT embedding, text FROM rag_chunks ORDER BY cityHash64(chunk_id) LIMIT {n:UInt32}",
    { n: queryCount },
    vectorRow,
  );
  const hybrid: number[] = [];
  const vectorOnly: number[] = [];
  let recallSum = 0;
  for (const sample of samples) {
    const vector = normalise(sample.embedding.map((x) => x + 0.05 * gaussian()));
    // Like a real question's content words after stop words: the sample's two rarest words.
    const words = [...new Set(sample.text.split(" "))].sort(
      (a, b) => Number(b.slice(1)) - Number(a.slice(1)),
    );
    const terms = words.slice(0, 2);
    let t = performance.now();
    const [vectorHits, keywordHits] = await Promise.all([
      store.vectorSearch(scope, vector, 10, "hnsw", tuning),
      store.keywordSearch(scope, terms, vector, 10),
    ]);
    fuseRankings(vectorHits, keywordHits).slice(0, 10);
    hybrid.push(performance.now() - t);
    t = performance.now();
    const approximate = await store.vectorSearch(scope, vector, 10, "hnsw", tuning);
    vectorOnly.push(performance.now() - t);
    const exact = await store.vectorSearch(scope, vector, 10, "exact", tuning);
    const found = new Set(approximate.map((h) => h.chunk_id));
    recallSum += exact.filter((h) => found.has(h.chunk_id)).length / Math.max(1, exact.length);
  }
  hybrid.sort((a, b) => a - b);
  vectorOnly.sort((a, b) => a - b);
  return {
    queries: samples.length,
    hybrid_p50_ms: percentile(hybrid, 50),
    hybrid_p95_ms: percentile(hybrid, 95),
    vector_p50_ms: percentile(vectorOnly, 50),
    vector_p95_ms: percentile(vectorOnly, 95),
    recall_at_10: recallSum / Math.max(1, samples.length),
    size,
  };
}

const results: Record<string, unknown>[] = [];
/** Written after every size, so a run stopped at 1M keeps the smaller sizes' numbers. */
function writeResults(): void {
  mkdirSync(join(repoRoot, ".stack/results"), { recursive: true });
  writeFileSync(
    join(repoRoot, ".stack/results/bench-retrieval.json"),
    `${JSON.stringify({ database, insert_method: "server-side INSERT … SELECT, 100k rows per part, merges stopped", hnsw_ef_search: tuning.candidateListSize, results }, null, 2)}\n`,
  );
}
try {
  await setup();
  let have = 0;
  for (const size of sizes.sort((a, b) => a - b)) {
    process.stderr.write(`filling to ${size} rows\n`);
    const seconds = await fill(have, size);
    const inserted = size - have;
    have = size;
    const measured = await measure(size);
    const row = {
      ...measured,
      inserted_rows: inserted,
      insert_seconds: seconds,
      insert_rows_per_s: inserted / seconds,
    };
    results.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
    writeResults();
  }
} finally {
  await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: database });
  await Promise.all([ch.close(), admin.close()]);
}

const fmt = (x: unknown, digits = 1) => (typeof x === "number" ? x.toFixed(digits) : String(x));
console.log(
  "| chunks | insert rows/s (HNSW build incl.) | hybrid p50 ms | hybrid p95 ms | vector p50 ms | vector p95 ms | recall@10 (HNSW vs exact) |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const r of results) {
  console.log(
    `| ${r.size} | ${fmt(r.insert_rows_per_s, 0)} | ${fmt(r.hybrid_p50_ms)} | ${fmt(r.hybrid_p95_ms)} | ${fmt(r.vector_p50_ms)} | ${fmt(r.vector_p95_ms)} | ${fmt(r.recall_at_10, 3)} |`,
  );
}
console.log("wrote .stack/results/bench-retrieval.json");
