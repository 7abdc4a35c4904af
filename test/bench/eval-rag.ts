/**
 * RAG eval: ingests a corpus into a scratch ClickHouse database, asks the labelled questions of one
 * split through the real answer pipeline (hybrid retrieval, threshold, generation on the model server,
 * answer gate) and prints retrieval figures, honesty figures per gate piece and, with --sweep, a
 * threshold × coverage grid with a proposed setting.
 *
 *   npm run eval:rag -- [--corpus DIR] [--questions FILE] [--split test|tune|all] [--limit N]
 *                       [--threshold 0.45] [--min-coverage 0.75] [--model NAME] [--max-tokens 48]
 *                       [--sweep] [--replay FILE] [--keep]
 *
 * The questions format is described in test/fixtures/rag/README.md. The split is fixed (FNV-1a of the
 * question text): tune on `--split tune`, report `--split test`. Every run also writes the recorded
 * outcomes (generated text and passages) to .stack/results/eval-rag-outcomes.json; `--replay` re-scores
 * such a file without ClickHouse or a model (gate tuning costs no generation).
 *
 * Writes .stack/results/eval-rag.json. Needs ClickHouse and the model server (`npm run stack -- up`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { DocumentStore } from "../../workers/backfill/document-store.ts";
import { ingestDocuments } from "../../workers/backfill/ingest.ts";
import { readDocuments } from "../../workers/backfill/read-documents.ts";
import { createClickHouse } from "../../workers/clickhouse/client.ts";
import { migrateClickHouse } from "../../workers/clickhouse/migrate.ts";
import { workerEnvSchema } from "../../workers/pool/env.ts";
import { verifyAnswer } from "../../workers/retrieval/answer-gate.ts";
import { honestyFigures, replayDecision } from "../../workers/retrieval/eval-honesty.ts";
import { parseQuestions, type QuestionOutcome, splitOf } from "../../workers/retrieval/eval-metrics.ts";
import { createEmbedderRegistry, embeddingVersion } from "../../workers/retrieval/model-clients.ts";
import { promptVersion } from "../../workers/retrieval/prompt.ts";
import { createRetrievalService } from "../../workers/retrieval/service.ts";
import { repoRoot, writeResults } from "../stack/paths.ts";
import { localClickHouse } from "../stack/services/clickhouse.ts";
import { gatePieces, gateSweep, printReport, retrievalFigures } from "./eval-rag-report.ts";

const { values } = parseArgs({
  options: {
    corpus: { type: "string", default: join(repoRoot, "test/fixtures/rag/honest/corpus") },
    questions: { type: "string", default: join(repoRoot, "test/fixtures/rag/honest/questions.jsonl") },
    split: { type: "string", default: "test" },
    limit: { type: "string" },
    threshold: { type: "string" },
    "min-coverage": { type: "string" },
    model: { type: "string" },
    "max-tokens": { type: "string", default: "48" },
    sweep: { type: "boolean", default: false },
    replay: { type: "string" },
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
    RAG_ANSWER_MIN_COVERAGE: true,
    RAG_EXACT_SEARCH_MAX_CHUNKS: true,
  })
  .parse(process.env);
const threshold = values.threshold === undefined ? config.RAG_DEFAULT_THRESHOLD : Number(values.threshold);
const minCoverage =
  values["min-coverage"] === undefined ? config.RAG_ANSWER_MIN_COVERAGE : Number(values["min-coverage"]);
const split = z.enum(["test", "tune", "all"]).parse(values.split);

const recordedSchema = z.object({
  model: z.string(),
  documents: z.number(),
  outcomes: z.array(z.custom<QuestionOutcome>((v) => typeof v === "object" && v !== null)),
});

/** Asks every question through the pipeline and records what happened. */
async function runLive(): Promise<{ outcomes: QuestionOutcome[]; documents: number; model: string }> {
  const database = "tiergate_rag_eval";
  const tenant = "eval";
  const collection = "eval";
  const url = process.env.CLICKHOUSE_URL ?? localClickHouse.url;
  const admin = createClickHouse({ ...localClickHouse, url, database: "default" });
  await migrateClickHouse(admin, database);
  const clickhouse = createClickHouse({ ...localClickHouse, url, database });
  const version = embeddingVersion(config.EMBEDDINGS_MODEL, config.EMBEDDINGS_MODEL_REVISION);
  const embedderFor = createEmbedderRegistry({
    baseURL: config.EMBEDDINGS_BASE_URL,
    apiKey: config.EMBEDDINGS_API_KEY,
    timeoutMs: config.MODEL_TIMEOUT_MS,
    dimensions: config.EMBEDDINGS_DIMENSIONS,
  });
  try {
    const documents = readDocuments(values.corpus);
    const questions = parseQuestions(readFileSync(values.questions, "utf8"))
      .filter((q) => split === "all" || splitOf(q.question) === split)
      .slice(0, values.limit === undefined ? undefined : Number(values.limit));
    await ingestDocuments(
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
    process.stdout.write(
      `corpus ${values.corpus}: ${documents.length} documents, ${questions.length} questions (${split})\n`,
    );
    const service = createRetrievalService(
      { ...config, RAG_DEFAULT_THRESHOLD: threshold, RAG_ANSWER_MIN_COVERAGE: minCoverage },
      clickhouse,
      { embedderFor },
    );
    const outcomes: QuestionOutcome[] = [];
    for (const question of questions) {
      const scope = { tenant, collection: question.collection ?? collection };
      const retrieval = await service.retriever.retrieve({
        ...scope,
        question: question.question,
        topK: 10,
        filter: question.filter,
      });
      const ranked = retrieval.kind === "ranked" ? retrieval.chunks : [];
      const outcome = await service.answer(
        {
          question: question.question,
          collection: scope.collection,
          filter: question.filter,
          max_tokens: Number(values["max-tokens"]),
          ...(values.model ? { model: values.model } : {}),
        },
        { tenant, requestId: `eval-${question.id}` },
      );
      const { response } = outcome;
      const cited = new Set(response.citations.map((c) => c.chunk_id));
      const recorded: QuestionOutcome = {
        question,
        rankedDocuments: [...new Set(ranked.map((c) => c.document_id))],
        best: response.scores.best,
        rule: response.rule,
        citedDocuments: response.citations.map((c) => c.document_id),
        passages: ranked.filter((c) => cited.has(c.chunk_id)).map((c) => c.text),
      };
      if (outcome.generated) recorded.generatedText = outcome.generated.text;
      outcomes.push(recorded);
      const best = response.scores.best === null ? "  -  " : response.scores.best.toFixed(3);
      process.stdout.write(
        `${(question.kind ?? "").padEnd(18)} ${best} ${response.rule.padEnd(18)} ${question.question.slice(0, 60).padEnd(60)} → ${(outcome.generated?.text ?? "").replace(/\s+/g, " ").slice(0, 70)}\n`,
      );
    }
    return { outcomes, documents: documents.length, model: values.model ?? config.GENERATION_MODEL };
  } finally {
    if (!values.keep) await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: database });
    await Promise.all([clickhouse.close(), admin.close()]);
  }
}

/** p50/p95 of the gate's own time on every generated answer (generation excluded). */
function gateCost(outcomes: readonly QuestionOutcome[]) {
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const o of outcomes) {
      if (o.generatedText === undefined) continue;
      const started = performance.now();
      verifyAnswer(
        { question: o.question.question, answer: o.generatedText, passages: o.passages ?? [] },
        { minCoverage },
      );
      times.push(performance.now() - started);
    }
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0;
  return { samples: times.length, p50_ms: at(0.5), p95_ms: at(0.95) };
}

const recorded = values.replay
  ? recordedSchema.parse(JSON.parse(readFileSync(values.replay, "utf8")))
  : await runLive();
const outcomes = recorded.outcomes.filter(
  (o) => !values.replay || split === "all" || splitOf(o.question.question) === split,
);
if (!values.replay) writeResults("eval-rag-outcomes", { ...recorded, split, threshold });
const figures = honestyFigures(outcomes, replayDecision(threshold, { minCoverage }));
const retrieval = retrievalFigures(outcomes, threshold);
const pieces = gatePieces(outcomes, threshold, minCoverage);
const sweep = values.sweep ? gateSweep(outcomes, threshold) : null;
printReport(retrieval, pieces, sweep);
const results = {
  corpus: values.corpus,
  questions: values.questions,
  documents: recorded.documents,
  ...retrieval,
  split,
  model: recorded.model,
  prompt_version: promptVersion,
  min_coverage: minCoverage,
  answer_precision: figures.answer_precision,
  coverage: figures.coverage,
  answer_supported_rate: figures.answer_supported_rate,
  unsupported_answer_rate: figures.unsupported_answer_rate,
  abstention_by_kind: figures.abstention_by_kind,
  gate_pieces: pieces,
  gate_cost: gateCost(outcomes),
  ...(sweep ? { sweep: { proposal: sweep.proposal, meets_targets: sweep.meetsTargets } } : {}),
};
process.stdout.write(
  `\ngate cost ${JSON.stringify(results.gate_cost)}\nwrote ${writeResults("eval-rag", results)}\n`,
);
