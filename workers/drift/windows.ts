import { z } from "zod";
import type { ClickHouse } from "../clickhouse/client.ts";
import type { WindowSample } from "./score.ts";

/** One tier and model version over [fromMs, toMs): the rows a drift window is made of. */
export interface WindowRange {
  tier: string;
  modelVersion: string;
  fromMs: number;
  toMs: number;
}

/** Rows read per window for the distributions (a deterministic hash sample); counts use every row. */
const sampleLimit = 5_000;

/** Feedback labels that mark an answer right or wrong; otherwise the sign of the rating decides. */
export const correctLabels = ["correct", "helpful", "good", "right"];
export const wrongLabels = ["wrong", "incorrect", "unhelpful", "bad", "hallucination"];

const countsRow = z.object({ requests: z.number(), fallbacks: z.number() });
const sampleRow = z.object({
  task: z.string(),
  confidence: z.number(),
  prompt_chars: z.number(),
  answer_chars: z.number(),
  relevance: z.number(),
  prompt_projection: z.array(z.number()),
});
const feedbackRow = z.object({ labelled: z.number(), correct: z.number() });

const windowFilter = `tier = {tier:String} AND model_version = {version:String}
  AND ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;

/**
 * Reads one window into a WindowSample: request and fallback counts over every event, the distributions
 * (task, confidence, relevance, prompt/answer length, prompt projection) over a hash sample of them, and
 * the latest feedback per request joined on request_id (labelled = a known label or a non-zero rating).
 */
export async function readWindowSample(ch: ClickHouse, range: WindowRange): Promise<WindowSample> {
  const params = { tier: range.tier, version: range.modelVersion, from: range.fromMs, to: range.toMs };
  const [counts, rows, feedback] = await Promise.all([
    ch.query(
      `SELECT count() AS requests, countIf(fallback_reason != '') AS fallbacks
       FROM events FINAL WHERE ${windowFilter}`,
      params,
      countsRow,
    ),
    ch.query(
      `SELECT task, confidence, prompt_chars, answer_chars, relevance, prompt_projection
       FROM events FINAL WHERE ${windowFilter}
       ORDER BY cityHash64(request_id) LIMIT {limit:UInt32}`,
      { ...params, limit: sampleLimit },
      sampleRow,
    ),
    ch.query(
      `SELECT countIf(verdict != 0) AS labelled, countIf(verdict = 1) AS correct
       FROM (
         SELECT multiIf(label IN {correct:Array(String)}, 1, label IN {wrong:Array(String)}, -1, sign(rating)) AS verdict
         FROM (
           SELECT argMax(rating, ts) AS rating, argMax(label, ts) AS label
           FROM feedback FINAL
           WHERE request_id IN (SELECT request_id FROM events FINAL WHERE ${windowFilter})
           GROUP BY tenant, request_id
         )
       )`,
      { ...params, correct: correctLabels, wrong: wrongLabels },
      feedbackRow,
    ),
  ]);
  const count = counts[0] ?? { requests: 0, fallbacks: 0 };
  const verdicts = feedback[0] ?? { labelled: 0, correct: 0 };
  return {
    embeddings: rows.filter((r) => r.prompt_projection.length > 0).map((r) => r.prompt_projection),
    promptLengths: rows.filter((r) => r.prompt_chars > 0).map((r) => r.prompt_chars),
    tasks: rows.filter((r) => r.task !== "").map((r) => r.task),
    confidences: rows.filter((r) => r.confidence >= 0).map((r) => r.confidence),
    relevanceScores: rows.filter((r) => r.relevance >= 0).map((r) => r.relevance),
    answerLengths: rows.filter((r) => r.answer_chars > 0).map((r) => r.answer_chars),
    requests: count.requests,
    fallbacks: count.fallbacks,
    labelled: verdicts.labelled,
    correct: verdicts.correct,
  };
}
