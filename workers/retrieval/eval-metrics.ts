import { z } from "zod";
import type { AnswerRule } from "../../shared/schemas/answer.ts";

export const questionKindSchema = z.enum(["answerable", "close_unanswerable", "off_topic"]);
export type QuestionKind = z.infer<typeof questionKindSchema>;

/**
 * One line of a questions JSONL file. Either the labelled format
 * `{question, answerable, kind, source, answer}` (source: the document id holding the answer, or null;
 * answer: the gold fact, or null) or the older `{id, question, expected: [document ids]}`.
 */
const questionLineSchema = z.strictObject({
  id: z.string().min(1).optional(),
  question: z.string().min(1),
  answerable: z.boolean().optional(),
  kind: questionKindSchema.optional(),
  source: z
    .union([z.string().min(1), z.array(z.string().min(1))])
    .nullable()
    .optional(),
  answer: z.string().min(1).nullable().optional(),
  expected: z.array(z.string()).optional(),
  collection: z.string().optional(),
  filter: z.record(z.string(), z.string()).optional(),
});

/** A labelled question as the eval uses it. Empty `expected` = unanswerable. */
export interface LabelledQuestion {
  id: string;
  question: string;
  /** Document ids that answer the question. */
  expected: string[];
  kind?: QuestionKind;
  /** The gold fact an answer must state (labelled format only). */
  answer?: string | null;
  collection?: string;
  filter?: Record<string, string>;
}

/** FNV-1a (32 bit) of a string: the split's fixed, platform-independent hash. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The fixed split: FNV-1a of the lower-cased, trimmed question text; even → tune, odd → test. */
export function splitOf(question: string): "tune" | "test" {
  return fnv1a(question.trim().toLowerCase()) % 2 === 0 ? "tune" : "test";
}

/** The question's kind: as labelled, or answerable when it names documents, else off-topic. */
export function kindOf(q: LabelledQuestion): QuestionKind {
  return q.kind ?? (q.expected.length > 0 ? "answerable" : "off_topic");
}

function toLabelled(line: z.infer<typeof questionLineSchema>): LabelledQuestion {
  const sources = line.expected ?? (line.source ? [line.source].flat() : []);
  const answerable = line.answerable ?? (line.kind ? line.kind === "answerable" : sources.length > 0);
  const kind = line.kind ?? (answerable ? "answerable" : "off_topic");
  if (answerable !== (kind === "answerable")) throw new Error("answerable and kind disagree");
  if (answerable && sources.length === 0) throw new Error("an answerable question needs its source");
  const out: LabelledQuestion = {
    id: line.id ?? `q${fnv1a(line.question).toString(16).padStart(8, "0")}`,
    question: line.question,
    expected: answerable ? sources : [],
    kind,
  };
  if (line.answer !== undefined) out.answer = line.answer;
  if (line.collection !== undefined) out.collection = line.collection;
  if (line.filter !== undefined) out.filter = line.filter;
  return out;
}

/** Parses a JSONL questions file; throws naming the line of the first bad entry. */
export function parseQuestions(jsonl: string): LabelledQuestion[] {
  return jsonl
    .split("\n")
    .map((line, i) => ({ line: line.trim(), number: i + 1 }))
    .filter(({ line }) => line.length > 0 && !line.startsWith("//"))
    .map(({ line, number }) => {
      const parsed = questionLineSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`questions line ${number}: ${parsed.error.issues[0]?.message}`);
      try {
        return toLabelled(parsed.data);
      } catch (error: unknown) {
        throw new Error(
          `questions line ${number}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    });
}

/** What the eval observed for one question. */
export interface QuestionOutcome {
  question: LabelledQuestion;
  /** Distinct document ids of the ranked chunks, best first. */
  rankedDocuments: string[];
  /** Best relevance score (null when nothing was retrieved). */
  best: number | null;
  rule: AnswerRule;
  citedDocuments: string[];
  /** The model's reply before the answer gate (absent when no model ran). */
  generatedText?: string;
  /** The passages the model was given. */
  passages?: string[];
}

const answerable = (o: QuestionOutcome) => o.question.expected.length > 0;

/** Share of the expected documents found among the first `k` ranked documents, averaged over answerable questions. */
export function recallAtK(outcomes: readonly QuestionOutcome[], k: number): number {
  const rows = outcomes.filter(answerable);
  if (rows.length === 0) return 0;
  const sum = rows.reduce((acc, o) => {
    const top = new Set(o.rankedDocuments.slice(0, k));
    return acc + o.question.expected.filter((d) => top.has(d)).length / o.question.expected.length;
  }, 0);
  return sum / rows.length;
}

/** Decides abstention from the best score alone (what the answer endpoint does at that threshold). */
export function abstainsAt(o: QuestionOutcome, threshold: number): boolean {
  return o.best === null || o.best < threshold;
}

/**
 * Abstention precision: of the questions that abstained, the share that were unanswerable.
 * Abstention recall: of the unanswerable questions, the share that abstained.
 * `answeredAnswerable`: of the answerable questions, the share that were answered.
 */
export function abstentionScores(
  outcomes: readonly QuestionOutcome[],
  abstains: (o: QuestionOutcome) => boolean,
) {
  const abstained = outcomes.filter(abstains);
  const unanswerable = outcomes.filter((o) => !answerable(o));
  const answerableRows = outcomes.filter(answerable);
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return {
    precision: ratio(abstained.filter((o) => !answerable(o)).length, abstained.length),
    recall: ratio(unanswerable.filter(abstains).length, unanswerable.length),
    answeredAnswerable: ratio(answerableRows.filter((o) => !abstains(o)).length, answerableRows.length),
  };
}

/** Of the answerable questions that got a generated answer, the share whose citations include an expected document. */
export function citationHitRate(outcomes: readonly QuestionOutcome[]): number {
  const answered = outcomes.filter((o) => answerable(o) && o.rule === "generated");
  if (answered.length === 0) return 0;
  return (
    answered.filter((o) => o.citedDocuments.some((d) => o.question.expected.includes(d))).length /
    answered.length
  );
}

export interface CalibrationBucket {
  from: number;
  to: number;
  questions: number;
  answerable: number;
  /** Questions whose top-ranked document is an expected one (unanswerable ones never are). */
  topCorrect: number;
}

/** Best-score buckets of width 0.1 against correctness of the top document. */
export function calibration(outcomes: readonly QuestionOutcome[]): CalibrationBucket[] {
  const buckets: CalibrationBucket[] = Array.from({ length: 10 }, (_, i) => ({
    from: i / 10,
    to: (i + 1) / 10,
    questions: 0,
    answerable: 0,
    topCorrect: 0,
  }));
  for (const o of outcomes) {
    const bucket = buckets[Math.min(9, Math.floor((o.best ?? 0) * 10))];
    if (!bucket) continue;
    bucket.questions++;
    if (answerable(o)) bucket.answerable++;
    const top = o.rankedDocuments[0];
    if (top !== undefined && o.question.expected.includes(top)) bucket.topCorrect++;
  }
  return buckets;
}
