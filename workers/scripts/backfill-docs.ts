import { z } from "zod";
import { DocumentStore } from "../backfill/document-store.ts";
import { ingestDocuments } from "../backfill/ingest.ts";
import { createProgressBar, formatSummary } from "../backfill/progress.ts";
import { readDocuments } from "../backfill/read-documents.ts";
import { createClickHouse } from "../clickhouse/client.ts";
import { clickhouseConfig } from "../clickhouse/config.ts";
import { workerEnvSchema } from "../pool/env.ts";
import { createOpenAIEmbedder, embeddingVersion } from "../retrieval/model-clients.ts";
import {
  countOption,
  defaultTenant,
  loadScriptEnv,
  parseCommandLine,
  parseOptions,
  print,
  printError,
  runScript,
} from "./lib/script-env.ts";

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

const usage = `usage: npm run backfill:docs -- <dir|file> --collection NAME [--tenant ${defaultTenant}] [--threshold 0.45]
       [--batch 32] [--model tiergate-embed] [--revision 1]
Reads .md/.markdown/.txt/.html/.htm, chunks, embeds and inserts them into ClickHouse (CLICKHOUSE_URL).
The tenant defaults to "${defaultTenant}" (the local development key's tenant). Filters (rag.filter) can
match "source" (the file's path relative to the directory given), "format" (markdown, text, html) and
"title" (the first "# " heading, the HTML <title>, or the file name).
A different --model/--revision than the collection's active version re-embeds the collection first.
Environment: CLICKHOUSE_URL (+ _USER, _PASSWORD, _DATABASE), EMBEDDINGS_BASE_URL; from a checkout whose
local stack is up, they come from the stack.`;

const argsSchema = z.object({
  path: z.string().min(1),
  collection: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, "letters, digits, '_', '.', '-' (at most 128)"),
  tenant: z.string().min(1).max(256),
  threshold: z.coerce
    .number({ message: "must be a number" })
    .min(0, "must be in [0, 1]")
    .max(1, "must be in [0, 1]")
    .optional(),
  batch: countOption.pipe(z.number().max(256, "must be at most 256")),
});

function commandLine() {
  return parseCommandLine(
    {
      allowPositionals: true,
      options: {
        collection: { type: "string" },
        tenant: { type: "string", default: defaultTenant },
        threshold: { type: "string" },
        batch: { type: "string", default: "32" },
        model: { type: "string" },
        revision: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    },
    usage,
  );
}

async function main(): Promise<void> {
  const { values, positionals } = commandLine();
  if (values.help) {
    print(usage);
    return;
  }
  const args = parseOptions(argsSchema, { ...values, path: positionals[0] }, usage);
  const env = loadScriptEnv(backfillEnvSchema);
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
    printError(
      `backfill: ${documents.length} documents from ${args.path} → ${args.tenant}/${args.collection}`,
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
    print(formatSummary(report));
  } finally {
    await clickhouse.close();
  }
}

if (import.meta.main) await runScript("backfill", main);
