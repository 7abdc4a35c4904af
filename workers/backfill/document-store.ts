import { z } from "zod";
import type { ClickHouse } from "../clickhouse/client.ts";
import { sha256HexSync } from "../lib/sha256.ts";

/** A chunk row as stored in `rag_chunks`. */
export interface ChunkRow {
  tenant: string;
  collection: string;
  model_version: string;
  document_id: string;
  chunk_id: string;
  chunk_index: number;
  source: string;
  content_hash: string;
  text: string;
  token_count: number;
  metadata: Record<string, string>;
  embedding: number[];
}

/** A document's done marker in `rag_documents`. */
export interface DocumentRow {
  tenant: string;
  collection: string;
  model_version: string;
  document_id: string;
  source: string;
  content_hash: string;
  metadata: Record<string, string>;
  chunk_count: number;
}

export interface CollectionKey {
  tenant: string;
  collection: string;
}

/** Deterministic chunk id: the same document content, position and embedding version give the same id. */
export function chunkId(key: CollectionKey, version: string, chunk: ChunkPosition): string {
  const { documentId, hash, index } = chunk;
  return sha256HexSync(
    [key.tenant, key.collection, version, documentId, hash, String(index)].join("\u0000"),
  ).slice(0, 32);
}

/** Where a chunk sits: its document, the document's content hash, and its index in the document. */
export interface ChunkPosition {
  documentId: string;
  hash: string;
  index: number;
}

const doneRow = z.object({ document_id: z.string(), content_hash: z.string() });
const idRow = z.object({ chunk_id: z.string() });
const storedChunkRow = z.object({
  document_id: z.string(),
  chunk_index: z.number(),
  source: z.string(),
  content_hash: z.string(),
  text: z.string(),
  token_count: z.number(),
  metadata: z.record(z.string(), z.string()),
});
export type StoredChunk = z.infer<typeof storedChunkRow>;
const collectionRow = z.object({ threshold: z.number(), active_model_version: z.string() });
const documentRow = z.object({
  document_id: z.string(),
  source: z.string(),
  content_hash: z.string(),
  metadata: z.record(z.string(), z.string()),
  chunk_count: z.number(),
});

const scopeParams = (key: CollectionKey, version: string) => ({
  tenant: key.tenant,
  collection: key.collection,
  model_version: version,
});
const scopeSql =
  "tenant = {tenant:String} AND collection = {collection:String} AND model_version = {model_version:String}";

/** Writes and bookkeeping of the backfill (tables in the client's database). */
/** The deduplication token of one batch insert: its chunk ids and a nonce, made once, reused by retries. */
export function batchToken(rows: readonly ChunkRow[]): string {
  return `${sha256HexSync(rows.map((r) => r.chunk_id).join(","))}-${crypto.randomUUID()}`;
}

export class DocumentStore {
  constructor(private readonly ch: ClickHouse) {}

  async collection(key: CollectionKey): Promise<{ threshold: number; activeModelVersion: string } | null> {
    const rows = await this.ch.query(
      `SELECT threshold, active_model_version FROM rag_collections FINAL
       WHERE tenant = {tenant:String} AND collection = {collection:String}`,
      { ...key },
      collectionRow,
    );
    const row = rows[0];
    return row ? { threshold: row.threshold, activeModelVersion: row.active_model_version } : null;
  }

  /** Upserts the collection row (the newest write wins); this is the atomic switch of the active version. */
  async setCollection(key: CollectionKey, threshold: number, activeModelVersion: string): Promise<void> {
    await this.ch.insert("rag_collections", [
      { ...key, threshold, active_model_version: activeModelVersion, updated_at: Date.now() },
    ]);
  }

  /** document_id → content hash of the documents completely ingested under `version`. */
  async doneDocuments(key: CollectionKey, version: string): Promise<Map<string, string>> {
    const rows = await this.ch.query(
      `SELECT document_id, content_hash FROM rag_documents FINAL WHERE ${scopeSql}`,
      scopeParams(key, version),
      doneRow,
    );
    return new Map(rows.map((r) => [r.document_id, r.content_hash]));
  }

  /** The ids among `ids` that are already stored (a batch written before a kill). */
  async existingChunkIds(key: CollectionKey, version: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.ch.query(
      `SELECT DISTINCT chunk_id FROM rag_chunks WHERE ${scopeSql} AND chunk_id IN {ids:Array(String)}`,
      { ...scopeParams(key, version), ids },
      idRow,
    );
    return new Set(rows.map((r) => r.chunk_id));
  }

  /**
   * One synchronous insert. `dedupToken` (from {@link batchToken}, made once per batch) makes a retry
   * of the same batch a no-op; a later batch with the same chunks (a document changed back to an
   * earlier text) gets a new token, so ClickHouse does not drop it as a repeat of the deleted one.
   */
  async insertChunks(rows: readonly ChunkRow[], dedupToken: string): Promise<void> {
    if (rows.length === 0) return;
    await this.ch.insert("rag_chunks", rows as unknown as Record<string, unknown>[], { dedupToken });
  }

  async markDone(rows: readonly DocumentRow[]): Promise<void> {
    await this.ch.insert("rag_documents", rows as unknown as Record<string, unknown>[]);
  }

  /**
   * Removes a changed document's chunks of other content hashes and their postings (lightweight deletes;
   * the postings first, since they are found through the chunks).
   */
  async deleteStaleChunks(
    key: CollectionKey,
    version: string,
    { documentId, keepHash }: { documentId: string; keepHash: string },
  ) {
    const stale = `${scopeSql} AND document_id = {document_id:String} AND content_hash != {hash:String}`;
    const params = { ...scopeParams(key, version), document_id: documentId, hash: keepHash };
    await this.ch.command(
      `DELETE FROM rag_postings WHERE ${scopeSql} AND chunk_id IN (SELECT chunk_id FROM rag_chunks WHERE ${stale})`,
      params,
    );
    await this.ch.command(`DELETE FROM rag_chunks WHERE ${stale}`, params);
  }

  /** Removes every chunk, posting and document row of one embedding version (after a switch away from it). */
  async deleteVersion(key: CollectionKey, version: string): Promise<void> {
    for (const table of ["rag_chunks", "rag_postings", "rag_documents"]) {
      await this.ch.command(`DELETE FROM ${table} WHERE ${scopeSql}`, scopeParams(key, version));
    }
  }

  /** Document rows of a version (for copying them to a re-embedded version). */
  async documents(key: CollectionKey, version: string): Promise<DocumentRow[]> {
    const rows = await this.ch.query(
      `SELECT document_id, source, content_hash, metadata, chunk_count FROM rag_documents FINAL WHERE ${scopeSql}`,
      scopeParams(key, version),
      documentRow,
    );
    return rows.map((r) => ({ ...key, model_version: version, ...r }));
  }

  /** A page of stored chunks in (document_id, chunk_index) order, after the given position (keyset paging). */
  async chunkPage(
    key: CollectionKey,
    version: string,
    { after, limit }: { after: { documentId: string; chunkIndex: number } | null; limit: number },
  ): Promise<StoredChunk[]> {
    return this.ch.query(
      `SELECT document_id, chunk_index, any(source) AS source, any(content_hash) AS content_hash,
              any(text) AS text, any(token_count) AS token_count, any(metadata) AS metadata
       FROM rag_chunks
       WHERE ${scopeSql} AND (document_id, chunk_index) > ({after_doc:String}, {after_index:Int64})
       GROUP BY document_id, chunk_index
       ORDER BY document_id, chunk_index
       LIMIT {limit:UInt32}`,
      {
        ...scopeParams(key, version),
        after_doc: after?.documentId ?? "",
        after_index: after?.chunkIndex ?? -1,
        limit,
      },
      storedChunkRow,
    );
  }
}
