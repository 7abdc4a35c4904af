/**
 * What verifying a streamed RAG answer before its first token costs: for a few questions of the eval
 * set, the time to the first streamed token of the generation against the time to its last (the gated
 * stream's first token), on the model server the generator uses.
 *
 *   npm run bench:rag-ttft -- [--questions FILE] [--corpus DIR] [--n 6] [--max-tokens 48]
 *
 * Writes .stack/results/rag-ttft.json. Needs the model server (`npm run stack -- up`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import OpenAI from "openai";
import { readDocuments } from "../../workers/backfill/read-documents.ts";
import { workerEnvSchema } from "../../workers/pool/env.ts";
import { verifyAnswer } from "../../workers/retrieval/answer-gate.ts";
import { parseQuestions } from "../../workers/retrieval/eval-metrics.ts";
import { buildAnswerMessages } from "../../workers/retrieval/prompt.ts";
import { repoRoot, writeResults } from "../stack/paths.ts";

const { values } = parseArgs({
  options: {
    corpus: { type: "string", default: join(repoRoot, "test/fixtures/rag/honest/corpus") },
    questions: { type: "string", default: join(repoRoot, "test/fixtures/rag/honest/questions.jsonl") },
    n: { type: "string", default: "6" },
    "max-tokens": { type: "string", default: "48" },
  },
});
const config = workerEnvSchema
  .pick({ GENERATION_BASE_URL: true, GENERATION_API_KEY: true, GENERATION_MODEL: true })
  .parse(process.env);
const client = new OpenAI({ baseURL: config.GENERATION_BASE_URL, apiKey: config.GENERATION_API_KEY });
const documents = new Map(readDocuments(values.corpus).map((d) => [d.documentId, d]));
const questions = parseQuestions(readFileSync(values.questions, "utf8"))
  .filter((q) => q.kind === "answerable")
  .slice(0, Number(values.n));

const rows: { first_token_ms: number; last_token_ms: number; gate_ms: number }[] = [];
for (const q of questions) {
  const doc = documents.get(q.expected[0] ?? "");
  if (!doc) continue;
  const chunk = { text: `${doc.title}\n\n${doc.text}`, source: doc.source };
  const messages = buildAnswerMessages(q.question, [
    chunk as Parameters<typeof buildAnswerMessages>[1][number],
  ]);
  const started = performance.now();
  let first = 0;
  let text = "";
  const stream = await client.chat.completions.create({
    model: config.GENERATION_MODEL,
    messages,
    max_tokens: Number(values["max-tokens"]),
    temperature: 0,
    stream: true,
  });
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta?.content ?? "";
    if (piece && first === 0) first = performance.now() - started;
    text += piece;
  }
  const last = performance.now() - started;
  const gateStarted = performance.now();
  verifyAnswer({ question: q.question, answer: text, passages: [chunk.text] }, { minCoverage: 0.6 });
  rows.push({ first_token_ms: first, last_token_ms: last, gate_ms: performance.now() - gateStarted });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const results = {
  model: config.GENERATION_MODEL,
  questions: rows.length,
  first_token_ms_median: median(rows.map((r) => r.first_token_ms)),
  gated_first_token_ms_median: median(rows.map((r) => r.last_token_ms + r.gate_ms)),
  rows,
};
process.stdout.write(`${JSON.stringify(results, null, 2)}\nwrote ${writeResults("rag-ttft", results)}\n`);
