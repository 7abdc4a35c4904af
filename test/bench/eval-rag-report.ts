/** Figures and tables of `eval:rag` (computation apart from the run, so a replay prints the same). */

import {
  type HonestyFigures,
  honestyFigures,
  replayDecision,
  sweepGate,
} from "../../workers/retrieval/eval-honesty.ts";
import {
  abstainsAt,
  abstentionScores,
  calibration,
  citationHitRate,
  type QuestionOutcome,
  recallAtK,
} from "../../workers/retrieval/eval-metrics.ts";

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const write = (line: string) => process.stdout.write(`${line}\n`);

/** The retrieval figures the results file has always had. */
export function retrievalFigures(outcomes: readonly QuestionOutcome[], threshold: number) {
  const abstention = abstentionScores(outcomes, (o) => o.rule !== "generated");
  return {
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
}

/** What each piece of the answer gate earns: the figures with none, each alone, and all. */
export function gatePieces(outcomes: readonly QuestionOutcome[], threshold: number, minCoverage: number) {
  const only = (check: "sentinel" | "claims" | "type" | "coverage") => ({
    minCoverage,
    checks: { sentinel: false, claims: false, type: false, coverage: false, trim: false, [check]: true },
  });
  return {
    threshold_only: honestyFigures(outcomes, replayDecision(threshold, null)),
    sentinel_only: honestyFigures(outcomes, replayDecision(threshold, only("sentinel"))),
    claims_only: honestyFigures(outcomes, replayDecision(threshold, only("claims"))),
    answer_type_only: honestyFigures(outcomes, replayDecision(threshold, only("type"))),
    coverage_only: honestyFigures(outcomes, replayDecision(threshold, only("coverage"))),
    full_gate_without_trim: honestyFigures(
      outcomes,
      replayDecision(threshold, { minCoverage, checks: { trim: false } }),
    ),
    full_gate: honestyFigures(outcomes, replayDecision(threshold, { minCoverage })),
  };
}

/** The threshold × min-coverage sweep and its proposal. */
export function gateSweep(outcomes: readonly QuestionOutcome[], recordedAt: number) {
  const thresholds = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6].filter((t) => t >= recordedAt - 1e-9);
  return sweepGate(outcomes, thresholds, [0, 0.5, 0.6, 0.67, 0.75, 0.8, 0.9, 1]);
}

function honestyRow(name: string, f: HonestyFigures): string {
  const k = f.abstention_by_kind;
  return `| ${name} | ${f.answers} | ${pct(f.answer_precision)} | ${pct(f.coverage)} | ${pct(f.unsupported_answer_rate)} | ${pct(k.close_unanswerable.abstention_recall)} | ${pct(k.off_topic.abstention_recall)} | ${pct(k.answerable.abstention_recall)} |`;
}

/** Prints the run's tables. */
export function printReport(
  retrieval: ReturnType<typeof retrievalFigures>,
  pieces: ReturnType<typeof gatePieces>,
  sweep: ReturnType<typeof gateSweep> | null,
): void {
  write(`\n| metric | value |\n| --- | --- |`);
  write(`| recall@5 | ${pct(retrieval.recall_at_5)} |\n| recall@10 | ${pct(retrieval.recall_at_10)} |`);
  write(`| citation hit rate | ${pct(retrieval.citation_hit_rate)} |`);
  write(
    "\nanswer gate pieces (answers given, answer precision, coverage, unsupported answer rate, abstention recall: close-unanswerable / off-topic / answerable)",
  );
  write(
    "| gate | answers | precision | coverage | unsupported | close abst. | off-topic abst. | answerable abst. |",
  );
  write("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const [name, figures] of Object.entries(pieces)) write(honestyRow(name, figures));
  if (!sweep) return;
  write("\nsweep (threshold × min coverage) rows meeting the targets:");
  for (const row of sweep.rows) {
    const k = row.figures.abstention_by_kind;
    if (k.close_unanswerable.abstention_recall < 0.9 || row.figures.answer_precision < 0.85) continue;
    write(honestyRow(`t ${row.threshold.toFixed(2)} c ${row.min_coverage.toFixed(2)}`, row.figures));
  }
  const p = sweep.proposal;
  if (p) {
    write(
      `\nproposal${sweep.meetsTargets ? "" : " (no row meets every target; the most precise one)"}: ` +
        `threshold ${p.threshold.toFixed(2)}, min coverage ${p.min_coverage.toFixed(2)} → ` +
        `store it with: npm run rag:calibrate -- --tenant T --collection C --threshold ${p.threshold.toFixed(2)}`,
    );
  }
}
