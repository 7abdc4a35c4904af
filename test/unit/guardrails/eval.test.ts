import { describe, expect, it } from "vitest";
import { evaluate, halfOf, loadLabelled, targets } from "../../bench/guardrails-eval.ts";

describe("eval:guardrails targets on the test half", () => {
  const rows = loadLabelled();
  const test = rows.filter((r) => halfOf(r.id) === "test");

  it("splits the labelled set roughly in half, with positives and clean messages in both", () => {
    expect(rows.length).toBeGreaterThan(800);
    expect(test.length).toBeGreaterThan(rows.length * 0.4);
    expect(test.length).toBeLessThan(rows.length * 0.6);
    expect(test.filter((r) => r.pii.length === 0).length).toBeGreaterThan(150);
  });

  it("meets recall >= 0.98 on structured PII and <= 1% false positives on clean messages", () => {
    const report = evaluate(test);
    expect(report.recall).toBeGreaterThanOrEqual(targets.minRecall);
    expect(report.clean_false_positive_rate).toBeLessThanOrEqual(targets.maxCleanFalsePositiveRate);
    for (const [kind, stats] of Object.entries(report.recall_by_kind)) {
      expect(stats.total, kind).toBeGreaterThan(20);
      expect(stats.recall, kind).toBeGreaterThanOrEqual(0.95);
    }
  });
});
