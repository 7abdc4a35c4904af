import { describe, expect, it } from "vitest";
import { honestyFigures, replayDecision, statesGold } from "../../../workers/retrieval/eval-honesty.ts";
import { parseQuestions, type QuestionOutcome, splitOf } from "../../../workers/retrieval/eval-metrics.ts";

const passage =
  "The Orvik Bridge opened in 1931 and has a main span of 240 metres. It carries two traffic lanes.";

function outcome(
  kind: "answerable" | "close_unanswerable" | "off_topic",
  text: string | undefined,
  best = 0.7,
) {
  const o: QuestionOutcome = {
    question: {
      id: kind,
      question:
        kind === "answerable"
          ? "What is the main span of the Orvik Bridge?"
          : "What is the toll on the Orvik Bridge?",
      expected: kind === "answerable" ? ["orvik.md"] : [],
      kind,
      answer: kind === "answerable" ? "240 metres" : null,
    },
    rankedDocuments: ["orvik.md"],
    best,
    rule: text === undefined ? "below_threshold" : "generated",
    citedDocuments: ["orvik.md"],
    passages: [passage],
  };
  if (text !== undefined) o.generatedText = text;
  return o;
}

describe("honesty figures", () => {
  it("judges the gold fact by normalised tokens", () => {
    expect(statesGold("The span is 240 m.", "240 metres")).toBe(true);
    expect(statesGold("It carries 2 lanes.", "two")).toBe(true);
    expect(statesGold("About 3,400 people work there.", "3400")).toBe(true);
    expect(statesGold("The span is 250 metres.", "240 metres")).toBe(false);
  });

  it("counts precision, coverage, unsupported answers and abstention per kind", () => {
    const outcomes = [
      outcome("answerable", "The main span is 240 metres."),
      outcome("answerable", "The main span is 260 metres."),
      outcome("close_unanswerable", "The toll is 5 euros."),
      outcome("off_topic", undefined, 0.1),
    ];
    const ungated = honestyFigures(outcomes, replayDecision(0.45, null));
    expect(ungated.answers).toBe(3);
    expect(ungated.answer_precision).toBeCloseTo(1 / 3);
    expect(ungated.coverage).toBeCloseTo(1 / 2);
    expect(ungated.unsupported_answer_rate).toBeCloseTo(2 / 3);
    expect(ungated.abstention_by_kind.off_topic.abstention_recall).toBe(1);
    expect(ungated.abstention_by_kind.close_unanswerable.abstention_recall).toBe(0);

    const gated = honestyFigures(outcomes, replayDecision(0.45, { minCoverage: 0.6 }));
    expect(gated.answers).toBe(1);
    expect(gated.answer_precision).toBe(1);
    expect(gated.unsupported_answer_rate).toBe(0);
    expect(gated.abstention_by_kind.close_unanswerable.abstention_recall).toBe(1);
  });
});

describe("labelled questions", () => {
  it("parses the labelled format and checks that its fields agree", () => {
    const [q] = parseQuestions(
      '{"question":"Who built it?","answerable":true,"kind":"answerable","source":"a.md","answer":"Hallan & Sons"}',
    );
    expect(q).toMatchObject({ expected: ["a.md"], kind: "answerable", answer: "Hallan & Sons" });
    expect(() =>
      parseQuestions('{"question":"q","answerable":true,"kind":"off_topic","source":"a.md"}'),
    ).toThrow(/line 1: answerable and kind disagree/);
    expect(() => parseQuestions('{"question":"q","answerable":true,"source":null}')).toThrow(
      /needs its source/,
    );
  });

  it("splits by a fixed hash of the question text", () => {
    expect(splitOf("How many stops does the Brevik Tramway have?")).toBe(
      splitOf("  how many stops does the brevik tramway have?"),
    );
    const splits = Array.from({ length: 200 }, (_, i) => splitOf(`question ${i}`));
    expect(splits.filter((s) => s === "test").length).toBeGreaterThan(70);
    expect(splits.filter((s) => s === "tune").length).toBeGreaterThan(70);
  });
});
