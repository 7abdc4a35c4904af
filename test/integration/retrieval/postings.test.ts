import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { batchToken, type ChunkRow, DocumentStore } from "../../../workers/backfill/document-store.ts";
import { type IngestOptions, ingestDocuments } from "../../../workers/backfill/ingest.ts";
import { readDocuments } from "../../../workers/backfill/read-documents.ts";
import { loadMigrations } from "../../../workers/clickhouse/migrate.ts";
import { sha256HexSync } from "../../../workers/lib/sha256.ts";
import type { Embedder } from "../../../workers/retrieval/model-clients.ts";
import { ClickHouseRetrievalStore, type SearchScope } from "../../../workers/retrieval/store.ts";
import { tokenCount } from "../../../workers/retrieval/text.ts";
import {
  dropDatabase,
  localClient,
  scratchDatabase,
  useScratchDatabase,
} from "../clickhouse/local-clickhouse.ts";
import { localEmbedder } from "./demo-corpus.ts";

const database = scratchDatabase("rag_postings");
const ch = localClient(database, 60_000);
const documentStore = new DocumentStore(ch);
const retrievalStore = new ClickHouseRetrievalStore(ch);

/** A unit vector along axis `axis` (the fixture's chunks need 384-d embeddings, not meaningful ones). */
const axisVector = (axis: number) => Array.from({ length: 384 }, (_, i) => (i === axis ? 1 : 0));

/** term → count, as the postings view tokenizes: lower-cased, split on non-alphanumerics, length > 1. */
function termCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (term.length > 1) counts.set(term, (counts.get(term) ?? 0) + 1);
  }
  return counts;
}

const postingRow = z.object({ chunk_id: z.string(), term: z.string(), tf: z.number(), doc_len: z.number() });
const chunkTextRow = z.object({ chunk_id: z.string(), text: z.string(), token_count: z.number() });

/** The postings of a scope, and the postings its chunks' texts call for, both as sorted lines. */
async function postingsAndExpected(tenant: string, version: string, db = ch) {
  const scope = { t: tenant, v: version };
  const stored = await db.query(
    "SELECT chunk_id, term, tf, doc_len FROM rag_postings WHERE tenant = {t:String} AND model_version = {v:String}",
    scope,
    postingRow,
  );
  const chunks = await db.query(
    "SELECT chunk_id, text, token_count FROM rag_chunks WHERE tenant = {t:String} AND model_version = {v:String}",
    scope,
    chunkTextRow,
  );
  const expected = chunks.flatMap((c) =>
    [...termCounts(c.text)].map(([term, tf]) => `${c.chunk_id} ${term} ${tf} ${c.token_count}`),
  );
  return {
    postings: stored.map((p) => `${p.chunk_id} ${p.term} ${p.tf} ${p.doc_len}`).sort(),
    expected: expected.sort(),
    chunks: chunks.length,
  };
}

/** Collection "docs", version "m@1" of `tenant`. */
const docsScope = (tenant: string) => ({ tenant, collection: "docs", version: "m@1" });

/** Chunk `id` (the only chunk of document `<id>.md`) with `text`; its vector is a unit axis. */
function fixtureChunk(
  where: { tenant: string; collection: string; version: string },
  id: string,
  text: string,
  extra: { metadata?: Record<string, string>; axis?: number } = {},
): ChunkRow {
  return {
    tenant: where.tenant,
    collection: where.collection,
    model_version: where.version,
    document_id: `${id}.md`,
    chunk_id: id,
    chunk_index: 0,
    source: `${id}.md`,
    content_hash: sha256HexSync(text),
    text,
    token_count: tokenCount(text),
    metadata: extra.metadata ?? {},
    embedding: axisVector(extra.axis ?? 0),
  };
}

useScratchDatabase(database, ch);

describe("BM25 from the postings table", () => {
  const scope: SearchScope = { tenant: "bm25", collection: "fixture", modelVersion: "fixture@1" };
  const texts: Record<string, string> = {
    a: "Postings postings postings.",
    b: "ClickHouse keeps postings for keyword search.",
    c: "A keyword, another keyword and a long tail of words that make this chunk much longer than the rest.",
    d: "Vectors live in an HNSW graph.",
    e: "Keyword search over postings: one keyword, one posting list.",
  };

  beforeAll(async () => {
    const rows = Object.entries(texts).map(([id, text], i) =>
      fixtureChunk(
        { tenant: scope.tenant, collection: scope.collection, version: scope.modelVersion },
        id,
        text,
        { metadata: { kind: id === "e" ? "special" : "plain" }, axis: i },
      ),
    );
    await documentStore.insertChunks(rows, batchToken(rows));
    await documentStore.setCollection(
      { tenant: scope.tenant, collection: scope.collection },
      0.45,
      scope.modelVersion,
    );
  });

  it("ranks the fixture in the known BM25 order with the textbook scores", async () => {
    const found = await retrievalStore.collectionStats(scope.tenant, scope.collection);
    expect(found?.stats.chunks).toBe(5);
    const stats = found?.stats ?? { chunks: 0, meanTokens: 1 };
    const terms = ["postings", "keyword"];
    const hits = await retrievalStore.keywordSearch({ scope, terms, vector: axisVector(0), k: 10, stats });
    expect(hits.map((h) => h.chunk_id)).toEqual(["e", "b", "a", "c"]);

    // BM25 by hand: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), k1 = 1.2, b = 0.75.
    const lengths = Object.values(texts).map(tokenCount);
    const avgdl = lengths.reduce((sum, n) => sum + n, 0) / lengths.length;
    const counts = Object.fromEntries(Object.entries(texts).map(([id, text]) => [id, termCounts(text)]));
    const df = (term: string) => Object.values(counts).filter((c) => c.has(term)).length;
    const bm25 = (id: string) =>
      terms.reduce((score, term) => {
        const tf = counts[id]?.get(term) ?? 0;
        const idf = Math.log(1 + (5 - df(term) + 0.5) / (df(term) + 0.5));
        const length = tokenCount(texts[id] ?? "");
        return score + (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * length) / avgdl));
      }, 0);
    for (const hit of hits) expect(hit.keyword_score).toBeCloseTo(bm25(hit.chunk_id), 9);
    expect(hits[0]).toMatchObject({ document_id: "e.md", text: texts.e, metadata: { kind: "special" } });
    expect(hits.find((h) => h.chunk_id === "a")?.distance).toBeCloseTo(0, 6);
    expect(hits.find((h) => h.chunk_id === "b")?.distance).toBeCloseTo(1, 6);
  });

  it("gives the same ranking and scores as scanning the text-index candidates", async () => {
    const found = await retrievalStore.collectionStats(scope.tenant, scope.collection);
    const stats = found?.stats ?? { chunks: 0, meanTokens: 1 };
    for (const terms of [["postings", "keyword"], ["keyword"], ["hnsw", "search"], ["absent"]]) {
      const byPostings = await retrievalStore.keywordSearchByPostings({
        scope,
        terms,
        vector: axisVector(1),
        k: 3,
        stats,
      });
      const byScan = await retrievalStore.keywordSearchByScan({ scope, terms, vector: axisVector(1), k: 3 });
      expect(byPostings.map((h) => h.chunk_id)).toEqual(byScan.map((h) => h.chunk_id));
      byPostings.forEach((hit, i) => {
        expect(hit.keyword_score).toBeCloseTo(byScan[i]?.keyword_score ?? Number.NaN, 9);
        expect(hit.distance).toBeCloseTo(byScan[i]?.distance ?? Number.NaN, 6);
      });
    }
  });

  it("applies metadata filters (through the scan) and stays inside the scope", async () => {
    const found = await retrievalStore.collectionStats(scope.tenant, scope.collection);
    const stats = found?.stats ?? { chunks: 0, meanTokens: 1 };
    const filtered = await retrievalStore.keywordSearch({
      scope: { ...scope, filter: { kind: "plain" } },
      terms: ["keyword"],
      vector: axisVector(0),
      k: 10,
      stats,
    });
    expect(filtered.map((h) => h.chunk_id)).toEqual(["b", "c"]);
    const otherTenant = await retrievalStore.keywordSearch({
      scope: { ...scope, tenant: "someone-else" },
      terms: ["keyword"],
      vector: axisVector(0),
      k: 10,
      stats,
    });
    expect(otherTenant).toEqual([]);
  });

  it("the vector search reads the collection's settings in its own statement, for both strategies", async () => {
    const tuning = { candidateListSize: 64, fetchMultiplier: 1 };
    await documentStore.setCollection(
      { tenant: scope.tenant, collection: scope.collection },
      0.6,
      "fixture@2",
    );
    for (const strategy of ["exact", "hnsw"] as const) {
      const query = { scope, vector: axisVector(3), k: 3, strategy, tuning };
      const plain = await retrievalStore.vectorSearch(query);
      const carried = await retrievalStore.vectorSearchWithSettings(query);
      expect(plain.map((h) => h.chunk_id)[0]).toBe("d");
      expect(carried.hits).toEqual(plain);
      expect(carried.settings).toMatchObject({ activeModelVersion: "fixture@2" });
      expect(carried.settings?.threshold).toBeCloseTo(0.6, 5);
    }
    await documentStore.setCollection(
      { tenant: scope.tenant, collection: scope.collection },
      0.45,
      scope.modelVersion,
    );
    // Chunks without a collection row: the settings are known to be absent (null), not unknown.
    const orphan = { tenant: scope.tenant, collection: "no-settings", version: scope.modelVersion };
    const rows = [fixtureChunk(orphan, "orphan", "A chunk whose collection has no settings row.")];
    await documentStore.insertChunks(rows, batchToken(rows));
    const orphanScope = {
      tenant: orphan.tenant,
      collection: orphan.collection,
      modelVersion: orphan.version,
    };
    const withoutRow = await retrievalStore.vectorSearchWithSettings({
      scope: orphanScope,
      vector: axisVector(0),
      k: 3,
      strategy: "exact",
      tuning,
    });
    expect(withoutRow.hits.map((h) => h.chunk_id)).toEqual(["orphan"]);
    expect(withoutRow.settings).toBeNull();
    // No hits, nothing to carry them: unknown.
    const elsewhere = { ...orphanScope, tenant: "nobody" };
    expect(
      await retrievalStore.vectorSearchWithSettings({
        scope: elsewhere,
        vector: axisVector(0),
        k: 3,
        strategy: "exact",
        tuning,
      }),
    ).toEqual({
      hits: [],
      settings: undefined,
    });
  });
});

describe("postings stay in sync with the chunks", () => {
  const key = { tenant: "sync", collection: "docs" };
  const options = (embedder: Embedder): IngestOptions => ({
    store: documentStore,
    embedder,
    key,
    defaultThreshold: 0.45,
    batchSize: 4,
  });
  const dir = mkdtempSync(join(tmpdir(), "rag-postings-"));
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("on insert, on a changed document and on a re-embed", async () => {
    const v1 = localEmbedder("1");
    write("alpha.md", "# Alpha\n\nThe alpha document talks about postings, terms and term frequencies.");
    write("beta.md", "# Beta\n\nBeta is about vectors. Vectors, vectors and more vectors.");
    await ingestDocuments(options(v1), readDocuments(dir));
    const inserted = await postingsAndExpected(key.tenant, v1.modelVersion);
    expect(inserted.chunks).toBeGreaterThan(1);
    expect(inserted.postings).toEqual(inserted.expected);
    expect(inserted.postings.some((line) => / vectors 4 /.test(line))).toBe(true);

    write("beta.md", "# Beta\n\nBeta changed: it is about graphs now.");
    await ingestDocuments(options(v1), readDocuments(dir));
    const changed = await postingsAndExpected(key.tenant, v1.modelVersion);
    expect(changed.postings).toEqual(changed.expected);
    expect(changed.postings.some((line) => line.includes(" vectors "))).toBe(false);
    expect(changed.postings.some((line) => line.includes(" graphs "))).toBe(true);
    // The scope stats (a projection, rebuilt by the lightweight delete) count the live chunks only.
    const statsAfterChange = await retrievalStore.collectionStats(key.tenant, key.collection);
    expect(statsAfterChange?.stats.chunks).toBe(changed.chunks);

    const v2 = localEmbedder("2");
    await ingestDocuments(options(v2), readDocuments(dir));
    const old = await postingsAndExpected(key.tenant, v1.modelVersion);
    expect(old.postings).toEqual([]);
    const reembedded = await postingsAndExpected(key.tenant, v2.modelVersion);
    expect(reembedded.chunks).toBe(changed.chunks);
    expect(reembedded.postings).toEqual(reembedded.expected);
    const statsAfterReembed = await retrievalStore.collectionStats(key.tenant, key.collection);
    expect(statsAfterReembed?.settings.activeModelVersion).toBe(v2.modelVersion);
    expect(statsAfterReembed?.stats.chunks).toBe(reembedded.chunks);
  });

  it("adds no postings when a batch is retried with its dedup token", async () => {
    const text = "A retried batch: retried once, stored once.";
    const row = {
      ...fixtureChunk(docsScope("retry"), "retry-0", text, { axis: 2 }),
      document_id: "retry.md",
      source: "retry.md",
    };
    const token = batchToken([row]);
    await documentStore.insertChunks([row], token);
    await documentStore.insertChunks([row], token);
    const retried = await postingsAndExpected("retry", "m@1");
    expect(retried.chunks).toBe(1);
    expect(retried.postings).toEqual(retried.expected);
    expect(retried.postings).toContain(`retry-0 retried 2 ${tokenCount(text)}`);
  });
});

describe("migrations 0011 and 0012 on a database that already has chunks", () => {
  const olderDatabase = scratchDatabase("rag_postings_upgrade");
  const older = localClient(olderDatabase, 60_000);
  afterAll(async () => {
    await older.close();
    await dropDatabase(olderDatabase);
  });

  it("keep the chunks, give them their postings once, and keep the view firing, however often they run", async () => {
    const admin = localClient("default");
    const migrations = loadMigrations();
    const run = async (version: number) => {
      for (const statement of migrations.find((m) => m.version === version)?.statements ?? [])
        await admin.command(statement, { db: olderDatabase });
    };
    try {
      await admin.command("CREATE DATABASE {db:Identifier}", { db: olderDatabase });
      await run(10);
      const chunk = (id: string, text: string) => ({ ...fixtureChunk(docsScope("old"), id, text) });
      const text = "Stored before the postings existed: postings, postings.";
      await older.insert("rag_chunks", [chunk("old-0", text)]);
      for (const version of [11, 11, 12, 12]) await run(version);
      const upgraded = await postingsAndExpected("old", "m@1", older);
      expect(upgraded.chunks).toBe(1);
      expect(upgraded.postings).toEqual(upgraded.expected);
      expect(upgraded.postings).toContain(`old-0 postings 3 ${tokenCount(text)}`);

      await older.insert("rag_chunks", [chunk("new-0", "Stored after the upgrade.")]);
      const later = await postingsAndExpected("old", "m@1", older);
      expect(later.chunks).toBe(2);
      expect(later.postings).toEqual(later.expected);
      expect(later.postings).toContain("new-0 upgrade 1 4");
    } finally {
      await admin.close();
    }
  });
});
