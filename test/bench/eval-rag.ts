/**
 * Retrieval eval: ingests a corpus into a scratch ClickHouse database, asks the labelled questions
 * through the real answer pipeline (hybrid retrieval, abstention rules, generation on the model server)
 * and prints recall@5/@10, abstention precision/recall, citation hit rate and a calibration table.
 *
 *   npm run eval:rag -- [--corpus DIR] [--questions FILE] [--threshold 0.45] [--max-tokens 24] [--keep]
 *
 * Writes .stack/results/eval-rag.json. Needs ClickHouse and the model server (`npm run stack -- up`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DocumentStore } from "../../workers/backfill/document-store.ts";
import { ingestDocuments } from "../../workers/backfill/ingest.ts";
import { formatSummary } from "../../workers/backfill/progress.ts";
import { readDocuments } from "../../workers/backfill/read-documents.ts";
import { createClickHouse } from "../../workers/clickhouse/client.ts";
import { migrateClickHouse } from "../../workers/clickhouse/migrate.ts";
import { workerEnvSchema } from "../../workers/pool/env.ts";
import {
  abstainsAt,
  abstentionScores,
  calibration,
  citationHitRate,
  parseQuestions,
  type QuestionOutcome,
  recallAtK,
} from "../../workers/retrieval/eval-metrics.ts";
import { createEmbedderRegistry, embeddingVersion } from "../../workers/retrieval/model-clients.ts";
import { createRetrievalService } from "../../workers/retrieval/service.ts";
import { repoRoot, writeResults } from "../stack/paths.ts";
import { localClickHouse } from "../stack/services/clickhouse.ts";

const { values } = parseArgs({
  options: {
    corpus: { type: "string", default: join(repoRoot, "test/fixtures/rag/corpus") },
    questions: { type: "string", default: join(repoRoot, "test/fixtures/rag/questions.jsonl") },
    threshold: { type: "string" },
    "max-tokens": { type: "string", default: "24" },
    keep: { type: "boolean", default: false },
  },
});

const config = workerEnvSchema
  .pick({
    EMBEDDINGS_BASE_URL: true,
    EMBEDDINGS_API_KEY: true,
    EMBEDDINGS_MODEL: true,
    EMBEDDINGS_MODEL_REVISION: true,
    EMBEDDINGS_DIMENSIONS: true,
    GENERATION_BASE_URL: true,
    GENERATION_API_KEY: true,
    GENERATION_MODEL: true,
    MODEL_TIMEOUT_MS: true,
    RAG_DEFAULT_THRESHOLD: true,
    RAG_TOP_K: true,
    RAG_MAX_TOKENS: true,
    RAG_EXACT_SEARCH_MAX_CHUNKS: true,
  })
  .parse(process.env);
const threshold = values.threshold === undefined ? config.RAG_DEFAULT_THRESHOLD : Number(values.threshold);
const database = "tiergate_rag_eval";
const tenant = "eval";
const collection = "eval";

const admin = createClickHouse({
  ...localClickHouse,
  url: process.env.CLICKHOUSE_URL ?? localClickHouse.url,
  database: "default",
});
await migrateClickHouse(admin, database);
const clickhouse = createClickHouse({
  ...localClickHouse,
  url: process.env.CLICKHOUSE_URL ?? localClickHouse.url,
  database,
});
const version = embeddingVersion(config.EMBEDDINGS_MODEL, config.EMBEDDINGS_MODEL_REVISION);
const embedderFor = createEmbedderRegistry({
  baseURL: config.EMBEDDINGS_BASE_URL,
  apiKey: config.EMBEDDINGS_API_KEY,
  timeoutMs: config.MODEL_TIMEOUT_MS,
  dimensions: config.EMBEDDINGS_DIMENSIONS,
});

try {
  const documents = readDocuments(values.corpus);
  const questions = parseQuestions(readFileSync(values.questions, "utf8"));
  const report = await ingestDocuments(
    {
      store: new DocumentStore(clickhouse),
      embedder: embedderFor(version),
      key: { tenant, collection },
      threshold,
      defaultThreshold: threshold,
      batchSize: 32,
    },
    documents,
  );
  console.log(`corpus ${values.corpus}: ${documents.length} documents\n${formatSummary(report)}\n`);

  const service = createRetrievalService({ ...config, RAG_DEFAULT_THRESHOLD: threshold }, clickhouse, {
    embedderFor,
  });
  const outcomes: QuestionOutcome[] = [];
  for (const question of questions) {
    const retrieval = await service.retriever.retrieve({
      tenant,
      collection: question.collection ?? collection,
      question: question.question,
      topK: 10,
      filter: question.filter,
    });
    const ranked = retrieval.kind === "ranked" ? retrieval.chunks : [];
    const { response } = await service.answer(
      {
        question: question.question,
        collection: question.collection ?? collection,
        filter: question.filter,
        max_tokens: Number(values["max-tokens"]),
      },
      { tenant, requestId: `eval-${question.id}` },
    );
    outcomes.push({
      question,
      rankedDocuments: [...new Set(ranked.map((c) => c.document_id))],
      best: response.scores.best,
      rule: response.rule,
      citedDocuments: response.citations.map((c) => c.document_id),
    });
    const best = response.scores.best === null ? "  -  " : response.scores.best.toFixed(3);
    const mark = question.expected.length === 0 ? "unanswerable" : `expects ${question.expected.join(",")}`;
    console.log(
      `${question.id.padEnd(5)} best ${best}  ${response.rule.padEnd(15)} top ${(ranked[0]?.document_id ?? "-").padEnd(24)} ${mark}`,
    );
  }

  const abstention = abstentionScores(outcomes, (o) => o.rule !== "generated");
  const results = {
    corpus: values.corpus,
    questions: values.questions,
    documents: documents.length,
    answerable: outcomes.filter((o) => o.question.expected.length > 0).length,
    unanswerable: outcomes.filter((o) => o.question.expected.length === 0).length,
    threshold,
    recall_at_5: recallAtK(outcomes, 5),
    recall_at_10: recallAtK(outcomes, 10),
    abstention_precision: abstention.precision,
    abstention_recall: abstention.recall,
    answered_answerable: abstention.answeredAnswerable,
    citation_hit_rate: citationHitRate(outcomes),
    calibration: calibration(outcomes),
    threshold_sweep: [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7].map((t) => ({
      threshold: t,
      ...abstentionScores(outcomes, (o) => abstainsAt(o, t)),
    })),
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`\n| metric | value |\n| --- | --- |`);
  console.log(`| recall@5 | ${pct(results.recall_at_5)} |\n| recall@10 | ${pct(results.recall_at_10)} |`);
  console.log(
    `| abstention precision | ${pct(results.abstention_precision)} |\n| abstention recall | ${pct(results.abstention_recall)} |`,
  );
  console.log(
    `| answerable answered | ${pct(results.answered_answerable)} |\n| citation hit rate | ${pct(results.citation_hit_rate)} |`,
  );
  console.log(
    `\ncalibration (best score → questions, answerable, top document correct)\n| score | questions | answerable | top correct |\n| --- | --- | --- | --- |`,
  );
  for (const b of results.calibration.filter((x) => x.questions > 0)) {
    console.log(
      `| ${b.from.toFixed(1)}–${b.to.toFixed(1)} | ${b.questions} | ${b.answerable} | ${b.topCorrect} |`,
    );
  }
  console.log(
    `\nthreshold sweep\n| threshold | abstention precision | abstention recall | answerable answered |\n| --- | --- | --- | --- |`,
  );
  for (const s of results.threshold_sweep) {
    console.log(
      `| ${s.threshold.toFixed(2)} | ${pct(s.precision)} | ${pct(s.recall)} | ${pct(s.answeredAnswerable)} |`,
    );
  }
  console.log(`\nwrote ${writeResults("eval-rag", results)}`);
} finally {
  if (!values.keep) await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: database });
  await Promise.all([clickhouse.close(), admin.close()]);
}
