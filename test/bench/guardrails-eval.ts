import { readFileSync } from "node:fs";
import { join } from "node:path";
import { detectPii, type PiiKind, piiKinds } from "../../shared/guardrails/detectors.ts";
import { repoRoot } from "../stack/paths.ts";

/** One labelled message of test/fixtures/guardrails/labelled.jsonl. */
export interface LabelledMessage {
  id: string;
  text: string;
  pii: { kind: PiiKind; value: string }[];
}

/** The targets the eval and its unit test hold the detectors to. */
export const targets = { minRecall: 0.98, maxCleanFalsePositiveRate: 0.01 } as const;

/** The generated set and the hand-written one (test/fixtures/guardrails). */
export function loadLabelled(): LabelledMessage[] {
  return ["labelled.jsonl", "handwritten.jsonl"].flatMap((name) =>
    readFileSync(join(repoRoot, "test/fixtures/guardrails", name), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LabelledMessage),
  );
}

/** FNV-1a of the id: the fixed rule splitting the set into a tune half (even) and a test half (odd). */
export function halfOf(id: string): "tune" | "test" {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h % 2 === 1 ? "test" : "tune";
}

export interface EvalReport {
  messages: number;
  positives: number;
  clean_messages: number;
  recall: number;
  recall_by_kind: Record<string, { found: number; total: number; recall: number }>;
  clean_false_positive_rate: number;
  clean_false_positives: number;
  /** Findings in positive messages that match no label (wrong kind or span). */
  extra_findings: number;
  /** Ids of what was missed or falsely flagged (never the text: some look like secrets). */
  missed_ids: string[];
  false_positive_ids: string[];
}

const ratio = (a: number, b: number): number => (b === 0 ? 1 : Math.round((a / b) * 10_000) / 10_000);

/** Runs every detector over the messages: a label counts as found when a match has its kind and exact span. */
export function evaluate(rows: readonly LabelledMessage[]): EvalReport {
  const byKind = Object.fromEntries(piiKinds.map((k) => [k, { found: 0, total: 0, recall: 1 }]));
  let found = 0;
  let total = 0;
  let clean = 0;
  let cleanFp = 0;
  let extra = 0;
  const missed: string[] = [];
  const falsePositives: string[] = [];
  for (const row of rows) {
    const matches = detectPii(row.text);
    if (row.pii.length === 0) {
      clean++;
      if (matches.length > 0) {
        cleanFp++;
        falsePositives.push(row.id);
      }
      continue;
    }
    const used = new Set<number>();
    for (const label of row.pii) {
      const stats = byKind[label.kind];
      if (!stats) continue;
      stats.total++;
      total++;
      const at = row.text.indexOf(label.value);
      const hit = matches.findIndex(
        (m) => m.kind === label.kind && m.start === at && m.end === at + label.value.length,
      );
      if (hit >= 0) {
        used.add(hit);
        stats.found++;
        found++;
      } else missed.push(row.id);
    }
    extra += matches.length - used.size;
  }
  for (const stats of Object.values(byKind)) stats.recall = ratio(stats.found, stats.total);
  return {
    messages: rows.length,
    positives: total,
    clean_messages: clean,
    recall: ratio(found, total),
    recall_by_kind: byKind,
    clean_false_positive_rate: ratio(cleanFp, clean),
    clean_false_positives: cleanFp,
    extra_findings: extra,
    missed_ids: missed,
    false_positive_ids: falsePositives,
  };
}
