import { describe, expect, it } from "vitest";
import {
  abstainsAt,
  abstentionScores,
  calibration,
  citationHitRate,
  parseQuestions,
  type QuestionOutcome,
  recallAtK,
} from "../../../workers/retrieval/eval-metrics.ts";

const outcome = (
  expected: string[],
  ranked: string[],
  best: number | null,
  cited: string[] = [],
): QuestionOutcome => ({
  question: { id: "q", question: "?", expected },
  rankedDocuments: ranked,
  best,
  rule: best !== null && best >= 0.45 ? "generated" : "below_threshold",
  citedDocuments: cited,
});

describe("eval metrics", () => {
  const outcomes = [
    outcome(["a"], ["a", "b"], 0.7, ["a"]),
    outcome(["c", "d"], ["x", "x2", "x3", "x4", "x5", "c"], 0.5, ["x"]),
    outcome(["e"], ["f"], 0.3),
    outcome([], ["g"], 0.2),
    outcome([], ["h"], 0.6),
  ];

  it("recall@k averages the share of expected documents in the top k over answerable questions", () => {
    expect(recallAtK(outcomes, 1)).toBeCloseTo((1 + 0 + 0) / 3);
    expect(recallAtK(outcomes, 10)).toBeCloseTo((1 + 0.5 + 0) / 3);
  });

  it("abstention precision and recall at a threshold", () => {
    const scores = abstentionScores(outcomes, (o) => abstainsAt(o, 0.45));
    expect(scores.precision).toBeCloseTo(1 / 2);
    expect(scores.recall).toBeCloseTo(1 / 2);
    expect(scores.answeredAnswerable).toBeCloseTo(2 / 3);
  });

  it("citation hit rate counts answered answerable questions citing an expected document", () => {
    expect(citationHitRate(outcomes)).toBeCloseTo(1 / 2);
  });

  it("calibration buckets best scores by tenths", () => {
    const buckets = calibration(outcomes);
    expect(buckets[7]).toMatchObject({ questions: 1, answerable: 1, topCorrect: 1 });
    expect(buckets[6]).toMatchObject({ questions: 1, answerable: 0, topCorrect: 0 });
  });

  it("parses JSONL and names the bad line", () => {
    expect(parseQuestions('{"id":"a","question":"q?","expected":["x.md"]}\n\n')).toHaveLength(1);
    expect(() => parseQuestions('{"id":"a","question":"q?","expected":[]}\n{"id":"b"}')).toThrow(/line 2/);
  });
});
