import { writeResults } from "../stack/paths.ts";
import { evaluate, halfOf, loadLabelled, targets } from "./guardrails-eval.ts";

/**
 * `npm run eval:guardrails`: the PII detectors over the labelled set (test/fixtures/guardrails).
 * Rules were tuned on the tune half only; the test half is the reported figure.
 */
const rows = loadLabelled();
const tune = evaluate(rows.filter((r) => halfOf(r.id) === "tune"));
const test = evaluate(rows.filter((r) => halfOf(r.id) === "test"));
const meets =
  test.recall >= targets.minRecall && test.clean_false_positive_rate <= targets.maxCleanFalsePositiveRate;
const file = writeResults("eval-guardrails", {
  split: "FNV-1a(id) odd = test, even = tune",
  targets,
  meets_targets: meets,
  test,
  tune,
});
process.stdout.write(
  `test half: recall ${test.recall} over ${test.positives} labels, clean false positives ` +
    `${test.clean_false_positives}/${test.clean_messages} (${test.clean_false_positive_rate}); ` +
    `${meets ? "meets" : "MISSES"} targets -> ${file}\n`,
);
for (const [kind, s] of Object.entries(test.recall_by_kind)) {
  process.stdout.write(`  ${kind.padEnd(7)} ${s.found}/${s.total} = ${s.recall}\n`);
}
