import { performance } from "node:perf_hooks";
import { scoreInjection } from "../../shared/guardrails/injection.ts";
import { inspectMessages } from "../../shared/guardrails/inspect.ts";
import { OutputFilter } from "../../shared/guardrails/output.ts";
import type { GuardrailPolicy } from "../../shared/guardrails/policy.ts";
import { Placeholders } from "../../shared/guardrails/redact.ts";
import type { ChatMessage } from "../../shared/schemas/chat.ts";
import { writeResults } from "../stack/paths.ts";
import { loadLabelled } from "./guardrails-eval.ts";

/**
 * `npm run bench:guardrails`: CPU of the edge's guardrails per 10k characters of prompt, in this
 * process (Bun's JavaScriptCore; workerd runs V8, so treat it as an estimate). Three texts: clean
 * prose, the labelled set's messages (dense PII), and one long run without spaces (the worst case
 * for the streaming hold-back). Times are medians of repeated runs on a shared machine: noisy.
 */
const policy: GuardrailPolicy = {
  pii: {
    email: "redact",
    phone: "redact",
    card: "redact",
    iban: "redact",
    ssn: "redact",
    ip: "log",
    secret: "redact",
  },
  injection: { mode: "log" },
  output: true,
  restore: true,
};

function tenK(source: string[]): string {
  let text = "";
  for (let i = 0; text.length < 10_000; i++) text += `${source[i % source.length]} `;
  return text.slice(0, 10_000);
}

const labelled = loadLabelled();
const texts = {
  clean_prose: tenK(labelled.filter((r) => r.pii.length === 0).map((r) => r.text)),
  dense_pii: tenK(labelled.filter((r) => r.pii.length > 0).map((r) => r.text)),
  no_spaces_alnum: "aB3x9".repeat(2_000),
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function time(run: () => void, rounds = 200): number {
  for (let i = 0; i < 20; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return Math.round(median(samples) * 1000) / 1000;
}

const rows = Object.entries(texts).map(([name, text]) => {
  const messages: ChatMessage[] = [{ role: "user", content: text }];
  const input_ms = time(() => {
    inspectMessages(messages, policy, new Placeholders());
    scoreInjection(text);
  });
  const output_stream_ms = time(() => {
    const filter = new OutputFilter(policy, new Placeholders());
    for (let i = 0; i < text.length; i += 16) filter.push(text.slice(i, i + 16));
    filter.flush();
  }, 50);
  return {
    text: name,
    chars: text.length,
    input_ms_per_10k: input_ms,
    output_stream_ms_per_10k: output_stream_ms,
  };
});
console.table(rows);
process.stdout.write(`wrote ${writeResults("bench-guardrails", { runtime: `bun ${Bun.version}`, rows })}\n`);
