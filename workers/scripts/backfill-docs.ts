import { parseArgs } from "node:util";
import { z } from "zod";
import { formatIssues } from "../../shared/env.ts";
import { DocumentStore } from "../backfill/document-store.ts";
import { ingestDocuments } from "../backfill/ingest.ts";
import { createProgressBar, formatSummary } from "../backfill/progress.ts";
import { readDocuments } from "../backfill/read-documents.ts";
import { createClickHouse } from "../clickhouse/client.ts";
import { clickhouseConfig } from "../clickhouse/config.ts";
import { workerEnvSchema } from "../pool/env.ts";
import { createOpenAIEmbedder, embeddingVersion } from "../retrieval/model-clients.ts";

/** The pool's variables the backfill uses, validated the same way. */
export const backfillEnvSchema = workerEnvSchema.pick({
  CLICKHOUSE_URL: true,
  CLICKHOUSE_USER: true,
  CLICKHOUSE_PASSWORD: true,
  CLICKHOUSE_DATABASE: true,
  EMBEDDINGS_BASE_URL: true,
  EMBEDDINGS_API_KEY: true,
  EMBEDDINGS_MODEL: true,
  EMBEDDINGS_MODEL_REVISION: true,
  EMBEDDINGS_DIMENSIONS: true,
  MODEL_TIMEOUT_MS: true,
  RAG_DEFAULT_THRESHOLD: true,
});

const usage = `usage: npm run backfill:docs -- <dir|file> --collection NAME [--tenant T] [--threshold 0.45]
       [--batch 32] [--model tiergate-embed] [--revision 1]
Reads .md/.markdown/.txt/.html/.htm, chunks, embeds and inserts them into ClickHouse (CLICKHOUSE_URL).
A different --model/--revision than the collection's active version re-embeds the collection first.`;

const argsSchema = z.object({
  path: z.string().min(1),
  collection: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  tenant: z.string().min(1).max(256),
  threshold: z.coerce.number().min(0).max(1).optional(),
  batch: z.coerce.number().int().min(1).max(256),
});

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      collection: { type: "string" },
      tenant: { type: "string", default: "default" },
      threshold: { type: "string" },
      batch: { type: "string", default: "32" },
      model: { type: "string" },
      revision: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const parsed = argsSchema.safeParse({ ...values, path: positionals[0] });
  if (!parsed.success) {
    process.stderr.write(`${formatIssues(parsed.error).join("\n")}\n${usage}\n`);
    process.exit(64);
  }
  const args = parsed.data;
  const env = backfillEnvSchema.parse(process.env);
  const model = values.model ?? env.EMBEDDINGS_MODEL;
  const embedder = createOpenAIEmbedder({
    baseURL: env.EMBEDDINGS_BASE_URL,
    apiKey: env.EMBEDDINGS_API_KEY,
    model,
    modelVersion: embeddingVersion(model, values.revision ?? env.EMBEDDINGS_MODEL_REVISION),
    dimensions: env.EMBEDDINGS_DIMENSIONS,
    timeoutMs: env.MODEL_TIMEOUT_MS,
  });
  const clickhouse = createClickHouse(clickhouseConfig(env));
  try {
    const documents = readDocuments(args.path);
    process.stderr.write(
      `backfill: ${documents.length} documents from ${args.path} → ${args.tenant}/${args.collection}\n`,
    );
    const report = await ingestDocuments(
      {
        store: new DocumentStore(clickhouse),
        embedder,
        key: { tenant: args.tenant, collection: args.collection },
        threshold: args.threshold,
        defaultThreshold: env.RAG_DEFAULT_THRESHOLD,
        batchSize: args.batch,
        onProgress: createProgressBar(),
      },
      documents,
    );
    process.stdout.write(`${formatSummary(report)}\n`);
  } finally {
    await clickhouse.close();
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`backfill: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
