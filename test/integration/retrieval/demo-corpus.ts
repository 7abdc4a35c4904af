import { join } from "node:path";
import { DocumentStore } from "../../../workers/backfill/document-store.ts";
import { ingestDocuments } from "../../../workers/backfill/ingest.ts";
import { readDocuments } from "../../../workers/backfill/read-documents.ts";
import type { ClickHouse } from "../../../workers/clickhouse/client.ts";
import { createOpenAIEmbedder, type Embedder } from "../../../workers/retrieval/model-clients.ts";
import { repoRoot } from "../../stack/paths.ts";
import { localModelServer } from "../../stack/services/model-server.ts";

/** The local model server's MiniLM as embedding version `<model>@<revision>` (384 dimensions). */
export function localEmbedder(revision: string): Embedder {
  return createOpenAIEmbedder({
    baseURL: localModelServer.baseURL,
    apiKey: localModelServer.apiKey,
    model: localModelServer.embeddingModel,
    modelVersion: `${localModelServer.embeddingModel}@${revision}`,
    dimensions: 384,
    timeoutMs: 30_000,
  });
}

/** Backfills the demo corpus (test/fixtures/rag) into `collection` of `tenant`, with real MiniLM vectors. */
export async function ingestDemoCorpus(ch: ClickHouse, tenant: string, collection = "docs"): Promise<void> {
  const embedder = localEmbedder("1");
  await ingestDocuments(
    {
      store: new DocumentStore(ch),
      embedder,
      key: { tenant, collection },
      defaultThreshold: 0.45,
      batchSize: 16,
    },
    readDocuments(join(repoRoot, "test/fixtures/rag/corpus")),
  );
}

/**
 * Creates `collection` of `tenant` with an active embedding version but no chunks: a collection that
 * exists and is empty (retrieval abstains with no_context), unlike one never created (404).
 */
export async function createEmptyCollection(
  ch: ClickHouse,
  tenant: string,
  collection: string,
): Promise<void> {
  await new DocumentStore(ch).setCollection(
    { tenant, collection },
    0.45,
    `${localModelServer.embeddingModel}@1`,
  );
}

/** Removes everything RAG stored for `tenant`. */
export async function dropTenantRag(ch: ClickHouse, tenant: string): Promise<void> {
  for (const table of ["rag_chunks", "rag_postings", "rag_documents", "rag_collections"]) {
    await ch.command(`DELETE FROM ${table} WHERE tenant = {tenant:String}`, { tenant }).catch(() => {});
  }
}
