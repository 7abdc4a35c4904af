import { detectPii, type PiiKind, type PiiMatch, streamHoldbackChars } from "./detectors.ts";
import type { GuardrailMode, GuardrailPolicy } from "./policy.ts";
import { enabledKinds, type FindingCounts, type Placeholders, scanText } from "./redact.ts";

/** The longest run without whitespace that is held back whole (longer runs are cut). */
const maxHeldRun = 256;

/**
 * The output side of the guardrails for one answer: findings of the policy's detectors are replaced
 * by `[REDACTED_<KIND>]` (output cannot be refused once it streams, so `block` redacts too; `log` only
 * counts), then the request's own placeholders are restored when the policy says so. Streamed text
 * goes through `push`/`flush`, which hold back only the tail a match could still span.
 */
export class OutputFilter {
  readonly #kinds: ReadonlySet<PiiKind>;
  #held = "";
  /** Characters pushed since the held text was last scanned: scanning waits for a batch of them. */
  #unscanned = 0;

  constructor(
    private readonly policy: GuardrailPolicy,
    private readonly placeholders: Placeholders,
    /** Output findings are added here as `output.kind:mode`. */
    readonly counts: FindingCounts = {},
  ) {
    this.#kinds = policy.output ? enabledKinds(policy) : new Set();
  }

  /** A filter for another choice of the same answer: same policy, placeholders and counts. */
  fork(): OutputFilter {
    return new OutputFilter(this.policy, this.placeholders, this.counts);
  }

  /** Whether this filter changes or inspects anything at all. */
  get active(): boolean {
    return this.#kinds.size > 0 || (this.policy.restore === true && this.placeholders.size > 0);
  }

  /** A complete answer text, filtered. */
  apply(text: string, matches?: PiiMatch[]): string {
    let out = text;
    if (this.#kinds.size > 0) {
      const outputCounts: FindingCounts = {};
      out = scanText(text, (k) => outputMode(this.policy.pii?.[k]), {
        kinds: this.#kinds,
        counts: outputCounts,
        replace: (kind) => `[REDACTED_${kind.toUpperCase()}]`,
        ...(matches ? { matches } : {}),
      }).text;
      for (const [label, n] of Object.entries(outputCounts)) {
        this.counts[`output.${label}`] = (this.counts[`output.${label}`] ?? 0) + n;
      }
    }
    return this.policy.restore ? this.placeholders.restore(out) : out;
  }

  /** Takes the next streamed piece; returns what can be released now (possibly empty). */
  push(delta: string): string {
    this.#held += delta;
    this.#unscanned += delta.length;
    if (this.#unscanned < streamHoldbackChars) return "";
    this.#unscanned = 0;
    const matches = this.#kinds.size > 0 ? detectPii(this.#held, this.#kinds) : [];
    const cut = this.#safeCut(this.#held, matches);
    if (cut <= 0) return "";
    const ready = this.#held.slice(0, cut);
    this.#held = this.#held.slice(cut);
    // Matches that end before the cut are exactly the ready text's: no second scan.
    return this.apply(
      ready,
      matches.filter((m) => m.end <= cut),
    );
  }

  /** Releases everything still held (the stream ended). */
  flush(): string {
    const rest = this.#held;
    this.#held = "";
    this.#unscanned = 0;
    return rest ? this.apply(rest) : "";
  }

  /** Where the held text may be cut: before the last `streamHoldbackChars`, a word, or a match. */
  #safeCut(text: string, matches: readonly PiiMatch[]): number {
    let cut = text.length - streamHoldbackChars;
    if (cut <= 0) return 0;
    const floor = Math.max(0, cut - maxHeldRun);
    while (cut > floor && !isSpace(text.charCodeAt(cut - 1)) && !isSpace(text.charCodeAt(cut))) cut--;
    for (const m of matches) {
      if (m.start < cut && m.end > cut) cut = m.start;
    }
    return cut;
  }
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 9 || code === 13;
}

/** Output cannot be refused once it streams: `block` redacts there. */
function outputMode(mode: GuardrailMode | undefined): GuardrailMode | undefined {
  return mode === "block" ? "redact" : mode;
}
