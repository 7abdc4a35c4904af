import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DocumentStore } from "../../../workers/backfill/document-store.ts";
import { type IngestOptions, ingestDocuments } from "../../../workers/backfill/ingest.ts";
import { readDocuments } from "../../../workers/backfill/read-documents.ts";
import type { Embedder } from "../../../workers/retrieval/model-clients.ts";
import { Retriever } from "../../../workers/retrieval/retriever.ts";
import { ClickHouseRetrievalStore } from "../../../workers/retrieval/store.ts";
import { repoRoot } from "../../stack/paths.ts";
import { localClient, scratchDatabase, useScratchDatabase } from "../clickhouse/local-clickhouse.ts";
import { localEmbedder } from "./demo-corpus.ts";

const database = scratchDatabase("rag_backfill");
const ch = localClient(database, 60_000);
const store = new DocumentStore(ch);
const corpus = join(repoRoot, "test/fixtures/rag/corpus");
const embedder = localEmbedder("1");
const embeddersByVersion = new Map<string, Embedder>();
const retriever = new Retriever(
  new ClickHouseRetrievalStore(ch),
  (version) => {
    const known = embeddersByVersion.get(version) ?? localEmbedder(version.split("@")[1] ?? "1");
    embeddersByVersion.set(version, known);
    return known;
  },
  {
    defaultThreshold: 0.45,
    exactSearchMaxChunks: 20_000,
    candidatesPerSide: 10,
    tuning: { candidateListSize: 64, fetchMultiplier: 4 },
    // Long enough to hold across the file: the re-embed below switches versions under a cached entry.
    scopeStatsTtlMs: 600_000,
    retry: { attempts: 2, baseDelayMs: 10 },
  },
);
const options = (overrides: Partial<IngestOptions>): IngestOptions => ({
  store,
  embedder,
  key: { tenant: "acme", collection: "docs" },
  defaultThreshold: 0.45,
  batchSize: 4,
  ...overrides,
});
const countRow = z.object({ rows: z.number(), ids: z.number() });
const chunkCounts = async (tenant: string, version: string) =>
  (
    await ch.query(
      "SELECT count() AS rows, uniqExact(chunk_id) AS ids FROM rag_chunks WHERE tenant = {t:String} AND model_version = {v:String}",
      { t: tenant, v: version },
      countRow,
    )
  )[0];

useScratchDatabase(database, ch);

describe("backfill and retrieval on the real ClickHouse and MiniLM", () => {
  const documents = readDocuments(corpus);

  it("resumes after a crash mid-way without duplicates, then skips everything on a re-run", async () => {
    let batches = 0;
    const crashing: Embedder = {
      ...embedder,
      embed: async (texts) => {
        if (++batches > 2) throw new Error("killed");
        return embedder.embed(texts);
      },
    };
    await expect(ingestDocuments(options({ embedder: crashing }), documents)).rejects.toThrow("killed");
    const partial = await chunkCounts("acme", embedder.modelVersion);
    expect(partial?.rows).toBe(8);

    const resumed = await ingestDocuments(options({}), documents);
    expect(resumed.chunksEmbedded).toBeLessThan(documents.length);
    const full = await chunkCounts("acme", embedder.modelVersion);
    expect(full?.rows).toBe(full?.ids);
    expect(full?.rows).toBe(resumed.chunksEmbedded + 8);

    const again = await ingestDocuments(options({}), documents);
    expect(again).toMatchObject({ documentsSkipped: documents.length, chunksEmbedded: 0 });
    expect((await chunkCounts("acme", embedder.modelVersion))?.rows).toBe(full?.rows);
  });

  it("keeps a document that changed and then changed back to its earlier text", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rag-flip-"));
    try {
      const write = (text: string) => writeFileSync(join(dir, "flip.md"), text);
      const ingest = () =>
        ingestDocuments(options({ key: { tenant: "flip", collection: "docs" } }), readDocuments(dir));
      const textA = "# Refunds\n\nRefunds are paid within fourteen days of a written request.";
      const textB = "# Refunds\n\nRefunds are no longer offered; credit notes replace them.";
      write(textA);
      await ingest();
      const first = (await chunkCounts("flip", embedder.modelVersion))?.rows ?? 0;
      expect(first).toBeGreaterThan(0);
      write(textB);
      await ingest();
      write(textA);
      await ingest();
      // The same chunks as the first time: a new insert, not a repeat ClickHouse may drop.
      expect((await chunkCounts("flip", embedder.modelVersion))?.rows).toBe(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("retrieves the right document, honours metadata filters, and never crosses tenants", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rag-other-"));
    writeFileSync(
      join(dir, "secret.md"),
      "# Launch codes\n\nThe response cache of the other tenant stores secrets.",
    );
    await ingestDocuments(options({ key: { tenant: "other", collection: "docs" } }), readDocuments(dir));
    rmSync(dir, { recursive: true, force: true });

    const acme = await retriever.retrieve({
      tenant: "acme",
      collection: "docs",
      question: "Which requests does the edge cache?",
      topK: 5,
    });
    expect(acme.kind).toBe("ranked");
    const acmeChunks = acme.kind === "ranked" ? acme.chunks : [];
    expect(acmeChunks[0]?.document_id).toBe("response-cache.md");
    expect(acmeChunks.some((c) => c.document_id === "secret.md")).toBe(false);

    const other = await retriever.retrieve({
      tenant: "other",
      collection: "docs",
      question: "response cache",
      topK: 5,
    });
    const otherChunks = other.kind === "ranked" ? other.chunks : [];
    expect(otherChunks.map((c) => c.document_id)).toEqual(["secret.md"]);

    // A tenant whose collection of that name is empty sees nothing of the others' chunks…
    await store.setCollection({ tenant: "nobody", collection: "docs" }, 0.45, embedder.modelVersion);
    const nobody = await retriever.retrieve({
      tenant: "nobody",
      collection: "docs",
      question: "response cache",
      topK: 5,
    });
    expect(nobody.kind).toBe("empty");
    // …and a tenant without one is told it does not exist.
    await expect(
      retriever.retrieve({ tenant: "stranger", collection: "docs", question: "response cache", topK: 5 }),
    ).rejects.toMatchObject({ code: "COLLECTION_NOT_FOUND", status: 404 });

    const html = await retriever.retrieve({
      tenant: "acme",
      collection: "docs",
      question: "response cache",
      topK: 5,
      filter: { format: "html" },
    });
    const htmlChunks = html.kind === "ranked" ? html.chunks : [];
    expect(htmlChunks.length).toBeGreaterThan(0);
    expect(new Set(htmlChunks.map((c) => c.document_id))).toEqual(new Set(["model-server.html"]));

    // `source` filters on the document's source (its path in the directory), with metadata keys beside it.
    const bySource = await retriever.retrieve({
      tenant: "acme",
      collection: "docs",
      question: "response cache",
      topK: 5,
      filter: { source: "local-stack.md", format: "markdown" },
    });
    const sourceChunks = bySource.kind === "ranked" ? bySource.chunks : [];
    expect(sourceChunks.length).toBeGreaterThan(0);
    expect(new Set(sourceChunks.map((c) => c.source))).toEqual(new Set(["local-stack.md"]));
  });

  it("re-embeds into a new version beside the old one, switches, then deletes the old version", async () => {
    const before = await chunkCounts("acme", embedder.modelVersion);
    const seen: string[] = [];
    const next = localEmbedder("2");
    const report = await ingestDocuments(
      options({
        embedder: next,
        onProgress: async (p) => {
          if (p.phase === "reembed" && seen.length === 0) {
            // Mid re-embed, queries still read the old version.
            seen.push(
              (await store.collection({ tenant: "acme", collection: "docs" }))?.activeModelVersion ?? "",
            );
          }
        },
      }),
      documents,
    );
    expect(report.reembedded).toEqual({ from: embedder.modelVersion, chunks: before?.rows });
    expect(report.documentsSkipped).toBe(documents.length);
    expect((await store.collection({ tenant: "acme", collection: "docs" }))?.activeModelVersion).toBe(
      next.modelVersion,
    );
    expect((await chunkCounts("acme", next.modelVersion))?.rows).toBe(before?.rows);
    expect((await chunkCounts("acme", embedder.modelVersion))?.rows).toBe(0);
    const after = await retriever.retrieve({
      tenant: "acme",
      collection: "docs",
      question: "What is tiergate?",
      topK: 3,
    });
    expect(after.kind === "ranked" ? after.chunks[0]?.document_id : null).toBe("overview.md");
    expect(seen[0]).toBe(embedder.modelVersion);
  });
});
