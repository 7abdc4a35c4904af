import { withRetry } from "../../shared/retry.ts";
import { sha256HexSync } from "../lib/sha256.ts";
import type { Embedder } from "../retrieval/model-clients.ts";
import { tokenCount } from "../retrieval/text.ts";
import { type ChunkingOptions, chunkDocument, chunkText, defaultChunking } from "./chunking.ts";
import {
  batchToken,
  type ChunkRow,
  type CollectionKey,
  chunkId,
  type DocumentRow,
  type DocumentStore,
} from "./document-store.ts";
import type { SourceDocument } from "./read-documents.ts";

export interface IngestProgress {
  phase: "reembed" | "ingest";
  /** Documents (ingest) or chunks (reembed) handled so far, of `total`. */
  done: number;
  total: number;
  chunksWritten: number;
}

export interface IngestOptions {
  store: DocumentStore;
  /** Embeds with the target version; a collection on another version is re-embedded to it first. */
  embedder: Embedder;
  key: CollectionKey;
  /** Sets the collection's relevance threshold; otherwise it keeps its own (or `defaultThreshold`). */
  threshold?: number;
  defaultThreshold: number;
  /** Chunks per embeddings call and per insert. */
  batchSize: number;
  chunking?: ChunkingOptions;
  /** Awaited, so a slow callback slows the backfill down (and a test can look at the state in between). */
  onProgress?: (progress: IngestProgress) => void | Promise<void>;
}

export interface IngestReport {
  modelVersion: string;
  documents: number;
  documentsSkipped: number;
  chunksEmbedded: number;
  chunksAlreadyStored: number;
  reembedded: { from: string; chunks: number } | null;
  seconds: number;
}

const retry = { attempts: 4, baseDelayMs: 200 };

interface PendingChunk {
  row: Omit<ChunkRow, "embedding">;
}

/** Embeds the rows that are not stored yet and inserts them; returns [embedded, alreadyStored]. */
async function writeBatch(
  options: IngestOptions,
  version: string,
  batch: PendingChunk[],
): Promise<[number, number]> {
  const { store, key } = options;
  const existing = await withRetry(
    () =>
      store.existingChunkIds(
        key,
        version,
        batch.map((p) => p.row.chunk_id),
      ),
    retry,
  );
  const missing = batch.filter((p) => !existing.has(p.row.chunk_id));
  if (missing.length > 0) {
    const vectors = await withRetry(() => options.embedder.embed(missing.map((p) => p.row.text)), retry);
    const rows = missing.map((p, i) => ({ ...p.row, embedding: vectors[i] ?? [] }));
    const token = batchToken(rows);
    await withRetry(() => store.insertChunks(rows, token), retry);
  }
  return [missing.length, batch.length - missing.length];
}

/**
 * Re-embeds every chunk of `from` into the embedder's version beside it (queries keep reading `from`),
 * copies the document markers, switches the collection to the new version, then deletes `from`.
 * Resumable: chunks already written under the new version are skipped.
 */
async function reembed(
  options: IngestOptions,
  { from, threshold }: { from: string; threshold: number },
  report: IngestReport,
) {
  const { store, key } = options;
  const to = options.embedder.modelVersion;
  const documents = await store.documents(key, from);
  const total = documents.reduce((sum, d) => sum + d.chunk_count, 0);
  let after: { documentId: string; chunkIndex: number } | null = null;
  let done = 0;
  for (;;) {
    const page = await withRetry(
      () => store.chunkPage(key, from, { after, limit: options.batchSize }),
      retry,
    );
    if (page.length === 0) break;
    const batch = page.map((c) => ({
      row: {
        ...key,
        model_version: to,
        document_id: c.document_id,
        chunk_id: chunkId(key, to, { documentId: c.document_id, hash: c.content_hash, index: c.chunk_index }),
        chunk_index: c.chunk_index,
        source: c.source,
        content_hash: c.content_hash,
        text: c.text,
        token_count: c.token_count,
        metadata: c.metadata,
      },
    }));
    const [embedded, stored] = await writeBatch(options, to, batch);
    report.chunksEmbedded += embedded;
    report.chunksAlreadyStored += stored;
    done += page.length;
    await options.onProgress?.({ phase: "reembed", done, total, chunksWritten: report.chunksEmbedded });
    const last = page[page.length - 1];
    if (last) after = { documentId: last.document_id, chunkIndex: last.chunk_index };
  }
  await withRetry(() => store.markDone(documents.map((d) => ({ ...d, model_version: to }))), retry);
  await withRetry(() => store.setCollection(key, threshold, to), retry);
  await withRetry(() => store.deleteVersion(key, from), retry);
  report.reembedded = { from, chunks: done };
}

/**
 * Ingests documents into a tenant's collection: chunk, embed in batches, insert in batches, then mark
 * each document done. Idempotent by content hash (a done document with the same hash is skipped) and
 * resumable after a kill (a document without its done marker is redone; its chunks already stored are
 * not embedded or inserted again). A changed document's old chunks are deleted after the new ones are in.
 */
export async function ingestDocuments(
  options: IngestOptions,
  documents: readonly SourceDocument[],
): Promise<IngestReport> {
  const started = performance.now();
  const { store, key } = options;
  const version = options.embedder.modelVersion;
  const report: IngestReport = {
    modelVersion: version,
    documents: documents.length,
    documentsSkipped: 0,
    chunksEmbedded: 0,
    chunksAlreadyStored: 0,
    reembedded: null,
    seconds: 0,
  };
  const collection = await withRetry(() => store.collection(key), retry);
  const threshold = options.threshold ?? collection?.threshold ?? options.defaultThreshold;
  const active = collection?.activeModelVersion ?? "";
  if (active !== "" && active !== version) await reembed(options, { from: active, threshold }, report);

  const done = await withRetry(() => store.doneDocuments(key, version), retry);
  let batch: PendingChunk[] = [];
  const waiting: { doc: DocumentRow; lastChunkId: string; changed: boolean }[] = [];
  let handled = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const [embedded, stored] = await writeBatch(options, version, batch);
    report.chunksEmbedded += embedded;
    report.chunksAlreadyStored += stored;
    const written = new Set(batch.map((p) => p.row.chunk_id));
    batch = [];
    const complete = waiting.filter((w) => written.has(w.lastChunkId));
    if (complete.length > 0) {
      await withRetry(() => store.markDone(complete.map((w) => w.doc)), retry);
      for (const w of complete) {
        if (w.changed)
          await withRetry(
            () =>
              store.deleteStaleChunks(key, version, {
                documentId: w.doc.document_id,
                keepHash: w.doc.content_hash,
              }),
            retry,
          );
      }
      waiting.splice(0, complete.length);
    }
  };

  for (const doc of documents) {
    const hash = sha256HexSync(`${doc.title}\n${doc.text}`);
    handled++;
    if (done.get(doc.documentId) === hash) {
      report.documentsSkipped++;
      await options.onProgress?.({
        phase: "ingest",
        done: handled,
        total: documents.length,
        chunksWritten: report.chunksEmbedded,
      });
      continue;
    }
    const chunks = chunkDocument(doc.text, doc.title, options.chunking ?? defaultChunking);
    const ids = chunks.map((c) =>
      chunkId(key, version, { documentId: doc.documentId, hash, index: c.index }),
    );
    for (const [i, chunk] of chunks.entries()) {
      const text = chunkText(chunk);
      batch.push({
        row: {
          ...key,
          model_version: version,
          document_id: doc.documentId,
          chunk_id: ids[i] ?? "",
          chunk_index: chunk.index,
          source: doc.source,
          content_hash: hash,
          text,
          token_count: tokenCount(text),
          metadata: { ...doc.metadata, title: doc.title },
        },
      });
      if (i === chunks.length - 1) {
        waiting.push({
          doc: {
            ...key,
            model_version: version,
            document_id: doc.documentId,
            source: doc.source,
            content_hash: hash,
            metadata: { ...doc.metadata, title: doc.title },
            chunk_count: chunks.length,
          },
          lastChunkId: ids[i] ?? "",
          changed: done.has(doc.documentId),
        });
      }
      if (batch.length >= options.batchSize) await flush();
    }
    await options.onProgress?.({
      phase: "ingest",
      done: handled,
      total: documents.length,
      chunksWritten: report.chunksEmbedded,
    });
  }
  await flush();
  // A new collection becomes visible once complete; a changed threshold applies now.
  if (active !== version || collection?.threshold !== threshold) {
    await withRetry(() => store.setCollection(key, threshold, version), retry);
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
