/**
 * Honesty figures of a RAG eval: whether answers state the gold fact, whether they assert things the
 * passages do not hold, and abstention per question kind. Judged by normalised token overlap, no model.
 */
import { type GateOptions, verifyAnswer } from "./answer-gate.ts";
import { canonicalToken, extractNames, extractQuantities, normaliseText, tokenise } from "./claims.ts";
import { kindOf, type QuestionKind, type QuestionOutcome } from "./eval-metrics.ts";
import { cleanReply } from "./prompt.ts";

const ignored = new Set(["a", "an", "the", "of", "and", "about", "around", "approximately"]);

function canonicalTokens(text: string): string[] {
  return tokenise(normaliseText(text))
    .filter((t) => !ignored.has(t))
    .map(canonicalToken);
}

/** True when every canonical token of the gold fact occurs in the answer ("2,200 W" states "2200 watts"). */
export function statesGold(answer: string, gold: string): boolean {
  const have = new Set(canonicalTokens(answer));
  const need = canonicalTokens(gold);
  return need.length > 0 && need.every((t) => have.has(t));
}

/**
 * True when the answer asserts something the passages do not hold: any answer to a question whose
 * fact is absent by construction (close-unanswerable, off-topic), or a number or name not in them.
 */
export function assertsUnsupported(o: QuestionOutcome, answer: string): boolean {
  if (kindOf(o.question) !== "answerable") return true;
  const passages = tokenise(normaliseText((o.passages ?? []).join("\n")));
  const have = new Set(passages);
  const values = new Set(extractQuantities(passages).map((q) => q.value));
  const numbers = extractQuantities(tokenise(normaliseText(answer)));
  if (numbers.some((q) => !values.has(q.value))) return true;
  return extractNames(answer).some((n) => !tokenise(n).every((t) => have.has(t)));
}

/** What the pipeline did with one question under some decision rule. */
export type Decision = { answered: false } | { answered: true; text: string };

export interface HonestyFigures {
  questions: number;
  answers: number;
  /** Of the answers given, the share that state the gold fact. */
  answer_precision: number;
  /** Of the answered answerable questions, the share whose answer states the gold fact. */
  answer_supported_rate: number;
  /** Of the answers given, the share that assert something the passages do not hold. */
  unsupported_answer_rate: number;
  /** Of the answerable questions, the share answered with the gold fact. */
  coverage: number;
  /** Per kind: questions and the share that abstained. */
  abstention_by_kind: Record<QuestionKind, { questions: number; abstention_recall: number }>;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** The honesty figures of outcomes under a decision rule. */
export function honestyFigures(
  outcomes: readonly QuestionOutcome[],
  decide: (o: QuestionOutcome) => Decision,
): HonestyFigures {
  const rows = outcomes.map((o) => ({ o, d: decide(o), kind: kindOf(o.question) }));
  const answered = rows.filter((r) => r.d.answered);
  const right = (r: (typeof rows)[number]) =>
    r.d.answered &&
    r.kind === "answerable" &&
    !!r.o.question.answer &&
    statesGold(r.d.text, r.o.question.answer);
  const answeredAnswerable = answered.filter((r) => r.kind === "answerable");
  const byKind = (kind: QuestionKind) => {
    const of = rows.filter((r) => r.kind === kind);
    return {
      questions: of.length,
      abstention_recall: ratio(of.filter((r) => !r.d.answered).length, of.length),
    };
  };
  return {
    questions: rows.length,
    answers: answered.length,
    answer_precision: ratio(answered.filter(right).length, answered.length),
    answer_supported_rate: ratio(answeredAnswerable.filter(right).length, answeredAnswerable.length),
    unsupported_answer_rate: ratio(
      answered.filter((r) => r.d.answered && assertsUnsupported(r.o, r.d.text)).length,
      answered.length,
    ),
    coverage: ratio(rows.filter(right).length, rows.filter((r) => r.kind === "answerable").length),
    abstention_by_kind: {
      answerable: byKind("answerable"),
      close_unanswerable: byKind("close_unanswerable"),
      off_topic: byKind("off_topic"),
    },
  };
}

/** Replays the pipeline's decision from a recorded outcome: threshold first, then the gate (or none). */
export function replayDecision(threshold: number, gate: GateOptions | null) {
  return (o: QuestionOutcome): Decision => {
    if (o.best === null || o.best < threshold || o.generatedText === undefined) return { answered: false };
    const text = cleanReply(o.generatedText);
    if (!gate) return { answered: true, text };
    const verdict = verifyAnswer(
      { question: o.question.question, answer: text, passages: o.passages ?? [] },
      gate,
    );
    return verdict.supported ? { answered: true, text: verdict.answer ?? text } : { answered: false };
  };
}

export interface SweepRow {
  threshold: number;
  min_coverage: number;
  figures: HonestyFigures;
}

/** Targets a proposal must meet: abstention recall per kind and answer precision. */
export const honestyTargets = { close: 0.9, offTopic: 0.95, precision: 0.85, unsupported: 0.05 };

/**
 * Threshold × coverage grid over recorded outcomes (recorded at a threshold at or below the grid's
 * lowest). Proposal: the row meeting every target with the highest coverage (ties: the lower
 * threshold); when none meets them, the row with the highest precision.
 */
export function sweepGate(
  outcomes: readonly QuestionOutcome[],
  thresholds: readonly number[],
  coverages: readonly number[],
): { rows: SweepRow[]; proposal: SweepRow | null; meetsTargets: boolean } {
  const rows = thresholds.flatMap((threshold) =>
    coverages.map((min_coverage) => ({
      threshold,
      min_coverage,
      figures: honestyFigures(outcomes, replayDecision(threshold, { minCoverage: min_coverage })),
    })),
  );
  const meets = (r: SweepRow) =>
    r.figures.abstention_by_kind.close_unanswerable.abstention_recall >= honestyTargets.close &&
    r.figures.abstention_by_kind.off_topic.abstention_recall >= honestyTargets.offTopic &&
    r.figures.answer_precision >= honestyTargets.precision &&
    r.figures.unsupported_answer_rate <= honestyTargets.unsupported;
  const passing = rows.filter(meets);
  const pool = passing.length > 0 ? passing : rows;
  const key = (r: SweepRow) => (passing.length > 0 ? r.figures.coverage : r.figures.answer_precision);
  const proposal = pool.reduce<SweepRow | null>((best, r) => (!best || key(r) > key(best) ? r : best), null);
  return { rows, proposal, meetsTargets: passing.length > 0 };
}
