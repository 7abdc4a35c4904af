/**
 * Retrieval bench: synthetic chunks with clustered 384-d vectors and Zipf-distributed words at each size
 * (default 100k and 1M), in a scratch database that is dropped afterwards.
 *
 *   npm run bench:retrieval -- [--sizes 100000,1000000] [--queries 200] [--unmerged-only] [--keep]
 *
 * Each size is measured as inserted (one part per 100k rows); the largest is then measured once more
 * after OPTIMIZE FINAL, once ClickHouse reports no merge running (one part, one HNSW graph: the state
 * a table reaches as MergeTree merges its parts, and the one the retrieval target, hybrid top-10 over 1M chunks in ≤ 20 ms p95 with recall@10 ≥ 0.95,
 * is judged on).
 * `--unmerged-only` skips that (the merge of 1M chunks rebuilds their graph: ~4 minutes on 2 cores).
 * `--keep` leaves the scratch database in place afterwards, to look at its queries by hand.
 * Every measurement starts with 5 unmeasured queries (they load the parts' HNSW graphs into the index
 * cache).
 *
 * Rows are generated server-side (INSERT … SELECT from numbers(), 100k rows per insert, so each insert is
 * one part and builds one HNSW graph, two inserts at a time; merges are stopped so the graphs are not
 * rebuilt). The postings materialized view fills rag_postings on the same inserts. Words: 24 per chunk
 * from w0…w4999, P(index < x) = (x/5000)^(1/3); a question is the two rarest words of a sampled chunk.
 * Vectors: three nested cluster levels and noise per component,
 * centroid(1000 clusters) + 0.6·offset(10k) + 0.4·offset(100k) + N(0, 0.35²), offsets uniform in [-1, 1];
 * the question vector is its chunk's vector + N(0, 0.35²) per component (cosine to the 1st / 10th / 100th
 * neighbour ≈ 0.9 / 0.7 / 0.35 at 100k, 0.9 / 0.8 / 0.65 at 1M), so HNSW recall depends on ef_search
 * (seen at 1M, k 20, fetch multiplier 1: ef 32 → 0.88, 64 → 0.97, 128 → 0.99).
 * Measures insert throughput (HNSW build and postings included), the round trip of `SELECT 1` (the
 * floor), hybrid top-10 latency p50/p95 through Retriever.retrieve with the production options (collection
 * settings, vector via HNSW + BM25 from the postings in parallel, RRF; the question embedding is
 * precomputed, so not part of it; the scope's size is cached for `scope_stats_ttl_ms`, so after the first
 * query the settings are read beside the search instead of settings and stats before it), vector-only and
 * keyword-only latency, and recall@10 of the HNSW side against exact search (brute-force cosineDistance
 * over the same scope).
 * Writes .stack/results/bench-retrieval.json.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { withRetry } from "../../shared/retry.ts";
import { createClickHouse } from "../../workers/clickhouse/client.ts";
import { loadMigrations } from "../../workers/clickhouse/migrate.ts";
import { workerEnvSchema } from "../../workers/pool/env.ts";
import { type Embedder, normalise } from "../../workers/retrieval/model-clients.ts";
import { Retriever } from "../../workers/retrieval/retriever.ts";
import { retrieverOptions } from "../../workers/retrieval/service.ts";
import { ClickHouseRetrievalStore, type SearchScope } from "../../workers/retrieval/store.ts";
import { writeResults } from "../stack/paths.ts";
import { localClickHouse } from "../stack/services/clickhouse.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100000,1000000" },
    queries: { type: "string", default: "200" },
    /** Skip the measurement of the largest size after its parts are merged (one HNSW graph). */
    "unmerged-only": { type: "boolean", default: false },
    /** Leave the scratch database in place. */
    keep: { type: "boolean", default: false },
  },
});
const sizes = values.sizes.split(",").map((s) => Number.parseInt(s, 10));
const queryCount = Math.min(1000, Number.parseInt(values.queries, 10));
const database = "tiergate_rag_bench";
/** Rows per insert (one part, one HNSW graph); small enough that one insert stays well under a request timeout. */
const insertRows = 100_000;
const scope: SearchScope = { tenant: "bench", collection: "synthetic", modelVersion: "synthetic@1" };
const options = retrieverOptions(
  workerEnvSchema.pick({ RAG_DEFAULT_THRESHOLD: true, RAG_EXACT_SEARCH_MAX_CHUNKS: true }).parse(process.env),
);
const k = options.candidatesPerSide;
/** Standard deviation of the per-component noise added to a chunk's vector to make its question. */
const questionNoise = 0.35;

const url = process.env.CLICKHOUSE_URL ?? localClickHouse.url;
const admin = createClickHouse({ ...localClickHouse, url, database: "default", requestTimeoutMs: 600_000 });
const ch = createClickHouse({ ...localClickHouse, url, database, requestTimeoutMs: 600_000 });
/** Merging 1M chunks rebuilds their HNSW graph: minutes on two cores. */
const merger = createClickHouse({
  ...localClickHouse,
  url,
  database: "default",
  requestTimeoutMs: 3_600_000,
});
const store = new ClickHouseRetrievalStore(ch);
/** The question vector of the query being measured: embedding is not part of the timing. */
let questionVector: number[] = [];
const precomputed: Embedder = {
  modelVersion: scope.modelVersion,
  dimensions: 384,
  embed: async (texts) => texts.map(() => questionVector),
};
const retriever = new Retriever(store, () => precomputed, options);

/** The rows numbered [from, from + count): one part. Values are code constants and parameters only. */
const generateSql = `
INSERT INTO rag_chunks (tenant, collection, model_version, document_id, chunk_id, chunk_index, source,
                        content_hash, text, token_count, metadata, embedding)
SELECT 'bench', 'synthetic', 'synthetic@1', concat('doc-', toString(intDiv(number, 4))), toString(number),
       toUInt32(number % 4), 'synthetic', repeat('0', 64), txt, toUInt32(length(words)), map('cluster', toString(c)),
       arrayMap(i -> toFloat32(
                  (cityHash64(c, i) % 2001) / 1000.0 - 1
                + 0.6 * ((cityHash64(m, i, 5) % 2001) / 1000.0 - 1)
                + 0.4 * ((cityHash64(s, i, 7) % 2001) / 1000.0 - 1)
                + randNormal(0, 0.35)), range(384))
FROM (
  SELECT number, number % 1000 AS c, number % 10000 AS m, number % 100000 AS s,
         arrayMap(j -> concat('w', toString(toUInt32(5000 * pow((cityHash64(number, j) % 100000) / 100000.0, 3)))),
                  range(24)) AS words,
         arrayStringConcat(words, ' ') AS txt
  FROM numbers({from:UInt64}, {count:UInt64})
)
SETTINGS max_insert_block_size = 1000000, min_insert_block_size_rows = 1000000, max_block_size = 65536`;

const vectorRow = z.object({ embedding: z.array(z.number()), text: z.string() });
const oneRow = z.object({ one: z.number() });
const activeRow = z.object({ parts: z.number(), merges: z.number() });
/** Queries run before each measurement and not counted. */
const warmupQueries = 5;

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
  await ch.insert("rag_collections", [
    { ...scope, threshold: 0.45, active_model_version: scope.modelVersion, updated_at: Date.now() },
  ]);
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

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

async function measure(size: number) {
  const samples = await ch.query(
    "SELECT embedding, text FROM rag_chunks ORDER BY cityHash64(chunk_id) LIMIT {n:UInt32}",
    { n: queryCount + warmupQueries },
    vectorRow,
  );
  const stats = (await store.collectionStats(scope.tenant, scope.collection))?.stats;
  if (!stats) throw new Error("the bench collection is missing");
  // Questions and their exact top-10 first: the brute-force scans stay out of the timed loop below.
  const questions = [];
  for (const sample of samples) {
    const vector = normalise(sample.embedding.map((x) => x + questionNoise * gaussian()));
    // Like a real question's content words after stop words: the sample's two rarest words.
    const words = [...new Set(sample.text.split(" "))]
      .sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)))
      .slice(0, 2);
    const exact = await store.vectorSearch({
      scope,
      vector,
      k: 10,
      strategy: "exact",
      tuning: options.tuning,
    });
    questions.push({ vector, words, exact: exact.map((h) => h.chunk_id) });
  }
  const floor: number[] = [];
  const hybrid: number[] = [];
  const vectorOnly: number[] = [];
  const keywordOnly: number[] = [];
  let recallSum = 0;
  for (const [index, question] of questions.entries()) {
    const counted = index >= warmupQueries;
    let t = performance.now();
    await ch.query("SELECT 1 AS one", {}, oneRow);
    if (counted) floor.push(performance.now() - t);
    questionVector = question.vector;
    t = performance.now();
    const result = await retriever.retrieve({
      tenant: scope.tenant,
      collection: scope.collection,
      question: question.words.join(" "),
      topK: 10,
    });
    if (counted) hybrid.push(performance.now() - t);
    if (result.kind !== "ranked" || result.chunks.length === 0)
      throw new Error("hybrid search found nothing");
    t = performance.now();
    const approximate = await store.vectorSearch({
      scope,
      vector: question.vector,
      k,
      strategy: "hnsw",
      tuning: options.tuning,
    });
    if (counted) vectorOnly.push(performance.now() - t);
    t = performance.now();
    await store.keywordSearch({ scope, terms: question.words, vector: question.vector, k, stats });
    if (counted) keywordOnly.push(performance.now() - t);
    const found = new Set(approximate.slice(0, 10).map((h) => h.chunk_id));
    const hits = question.exact.filter((id) => found.has(id)).length;
    if (counted) recallSum += hits / Math.max(1, question.exact.length);
  }
  const [f, h, v, kw] = [floor, hybrid, vectorOnly, keywordOnly].map(sorted);
  return {
    queries: hybrid.length,
    select1_p50_ms: percentile(f ?? [], 50),
    select1_p95_ms: percentile(f ?? [], 95),
    hybrid_p50_ms: percentile(h ?? [], 50),
    hybrid_p95_ms: percentile(h ?? [], 95),
    vector_p50_ms: percentile(v ?? [], 50),
    vector_p95_ms: percentile(v ?? [], 95),
    keyword_p50_ms: percentile(kw ?? [], 50),
    keyword_p95_ms: percentile(kw ?? [], 95),
    recall_at_10: recallSum / Math.max(1, hybrid.length),
    size,
  };
}

/** Waits until each RAG table of the bench database is one part and no merge runs there. */
async function mergesSettled(): Promise<void> {
  for (;;) {
    // The admin connection idled through the merge: the server may have closed it (keep-alive 2 s).
    const [state] = await withRetry(
      () =>
        admin.query(
          `SELECT (SELECT toFloat64(max(n)) FROM (SELECT count() AS n FROM system.parts
                WHERE active AND database = {db:String} AND table IN ('rag_chunks', 'rag_postings') GROUP BY table)) AS parts,
              (SELECT toFloat64(count()) FROM system.merges WHERE database = {db:String}) AS merges`,
          { db: database },
          activeRow,
        ),
      { attempts: 3, baseDelayMs: 200 },
    );
    if (state && state.parts <= 1 && state.merges === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

const results: Record<string, unknown>[] = [];
/** Written after every size, so a run stopped at 1M keeps the smaller sizes' numbers. */
function writeRetrievalResults(): void {
  writeResults("bench-retrieval", {
    database,
    insert_method: "server-side INSERT … SELECT, 100k rows per part, merges stopped",
    candidates_per_side: k,
    tuning: options.tuning,
    scope_stats_ttl_ms: options.scopeStatsTtlMs,
    question_noise: questionNoise,
    results,
  });
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
    results.push({ ...row, parts: "unmerged (100k rows each)" });
    process.stderr.write(`${JSON.stringify(row)}\n`);
    writeRetrievalResults();
  }
  if (!values["unmerged-only"]) {
    // Production merges parts over time; the unmerged rows above search one HNSW graph per part.
    process.stderr.write("merging parts (rebuilds the HNSW graph)\n");
    const started = performance.now();
    await admin.command("SYSTEM START MERGES {db:Identifier}.rag_chunks", { db: database });
    await merger.command("OPTIMIZE TABLE {db:Identifier}.rag_chunks FINAL", { db: database });
    await merger.command("OPTIMIZE TABLE {db:Identifier}.rag_postings FINAL", { db: database });
    await mergesSettled();
    // Drops a keep-alive connection the server closed while `ch` idled through the merge (never throws).
    await ch.ping();
    const mergeSeconds = (performance.now() - started) / 1000;
    const row = { ...(await measure(have)), merge_seconds: mergeSeconds, parts: "merged (OPTIMIZE FINAL)" };
    results.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
    writeRetrievalResults();
  }
} finally {
  if (!values.keep) await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: database });
  await Promise.all([ch.close(), admin.close(), merger.close()]);
}

const fmt = (x: unknown, digits = 1) =>
  typeof x === "number" ? x.toFixed(digits) : x === undefined ? "–" : String(x);
console.log(
  "| chunks | insert rows/s (HNSW + postings) | SELECT 1 p50/p95 ms | hybrid p50/p95 ms | vector p50/p95 ms | keyword p50/p95 ms | recall@10 (HNSW vs exact) |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const r of results) {
  console.log(
    `| ${r.size}${String(r.parts ?? "").startsWith("merged") ? " merged" : ""} | ${fmt(r.insert_rows_per_s, 0)} | ${fmt(r.select1_p50_ms)} / ${fmt(r.select1_p95_ms)} | ${fmt(r.hybrid_p50_ms)} / ${fmt(r.hybrid_p95_ms)} | ${fmt(r.vector_p50_ms)} / ${fmt(r.vector_p95_ms)} | ${fmt(r.keyword_p50_ms)} / ${fmt(r.keyword_p95_ms)} | ${fmt(r.recall_at_10, 3)} |`,
  );
}
console.log("wrote .stack/results/bench-retrieval.json");
