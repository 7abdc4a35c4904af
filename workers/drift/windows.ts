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
const tenantFeedbackRow = z.object({
  tenant: z.string(),
  requests: z.number(),
  labelled: z.number(),
  correct: z.number(),
});

const windowFilter = `tier = {tier:String} AND model_version = {version:String}
  AND ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;

/**
 * Reads one window into a WindowSample: request and fallback counts over every event, the distributions
 * (task, confidence, relevance, prompt/answer length, prompt projection) over a hash sample of them, and
 * the latest feedback per request joined on (tenant, request_id), so a tenant's labels only ever judge
 * its own requests, counted per tenant with each tenant's requests in the window (labelled = a known
 * label or a non-zero rating).
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
      `SELECT e.tenant AS tenant, e.requests AS requests, f.labelled AS labelled, f.correct AS correct
       FROM (SELECT tenant, count() AS requests FROM events FINAL WHERE ${windowFilter} GROUP BY tenant) AS e
       LEFT JOIN (
         SELECT tenant, countIf(verdict != 0) AS labelled, countIf(verdict = 1) AS correct
         FROM (
           SELECT tenant,
             multiIf(label IN {correct:Array(String)}, 1, label IN {wrong:Array(String)}, -1, sign(rating)) AS verdict
           FROM (
             SELECT tenant, argMax(rating, ts) AS rating, argMax(label, ts) AS label
             FROM feedback FINAL
             WHERE (tenant, request_id) IN (SELECT tenant, request_id FROM events FINAL WHERE ${windowFilter})
             GROUP BY tenant, request_id
           )
         )
         GROUP BY tenant
       ) AS f USING (tenant)
       SETTINGS join_use_nulls = 0`,
      { ...params, correct: correctLabels, wrong: wrongLabels },
      tenantFeedbackRow,
    ),
  ]);
  const count = counts[0] ?? { requests: 0, fallbacks: 0 };
  const byTenant = feedback.filter((row) => row.labelled > 0);
  return {
    embeddings: rows.filter((r) => r.prompt_projection.length > 0).map((r) => r.prompt_projection),
    promptLengths: rows.filter((r) => r.prompt_chars > 0).map((r) => r.prompt_chars),
    tasks: rows.filter((r) => r.task !== "").map((r) => r.task),
    confidences: rows.filter((r) => r.confidence >= 0).map((r) => r.confidence),
    relevanceScores: rows.filter((r) => r.relevance >= 0).map((r) => r.relevance),
    answerLengths: rows.filter((r) => r.answer_chars > 0).map((r) => r.answer_chars),
    requests: count.requests,
    fallbacks: count.fallbacks,
    labelled: byTenant.reduce((sum, row) => sum + row.labelled, 0),
    correct: byTenant.reduce((sum, row) => sum + row.correct, 0),
    feedbackByTenant: byTenant,
  };
}
