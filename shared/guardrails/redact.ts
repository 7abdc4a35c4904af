import { detectPii, type PiiKind, type PiiMatch, piiKinds } from "./detectors.ts";
import type { GuardrailMode, GuardrailPolicy } from "./policy.ts";

/** How many findings of each `kind:mode` one text or request had (never the matched text). */
export type FindingCounts = Record<string, number>;

/**
 * The placeholders of one request: the same value always gets the same placeholder (`[EMAIL_1]`,
 * `[EMAIL_2]`, …), so the model can still tell values apart and the answer can be restored.
 */
export class Placeholders {
  readonly #byValue = new Map<string, string>();
  readonly #byPlaceholder = new Map<string, string>();
  readonly #next = new Map<PiiKind, number>();

  /** The placeholder standing for `value`, created on first use. */
  for(kind: PiiKind, value: string): string {
    const known = this.#byValue.get(`${kind}\u0000${value}`);
    if (known) return known;
    const n = (this.#next.get(kind) ?? 0) + 1;
    this.#next.set(kind, n);
    const placeholder = `[${kind.toUpperCase()}_${n}]`;
    this.#byValue.set(`${kind}\u0000${value}`, placeholder);
    // Secrets are never put back into an answer.
    if (kind !== "secret") this.#byPlaceholder.set(placeholder, value);
    return placeholder;
  }

  get size(): number {
    return this.#byPlaceholder.size;
  }

  /** `text` with every known placeholder replaced by its value again. */
  restore(text: string): string {
    if (this.#byPlaceholder.size === 0) return text;
    return text.replace(placeholderPattern, (p) => this.#byPlaceholder.get(p) ?? p);
  }
}

const placeholderPattern = new RegExp(
  `\\[(?:${piiKinds.map((k) => k.toUpperCase()).join("|")})_\\d+\\]`,
  "g",
);

/** The detector kinds a policy turns on. */
export function enabledKinds(policy: GuardrailPolicy): Set<PiiKind> {
  return new Set(piiKinds.filter((k) => policy.pii?.[k] !== undefined));
}

/** The result of scanning one text under a policy. */
export interface TextScan {
  /** The text with `redact` findings replaced (unchanged when there were none). */
  text: string;
  /** The first finding whose mode is `block`, if any. */
  blocked: PiiKind | null;
  matches: PiiMatch[];
}

/**
 * Scans `text`: counts each finding as `kind:mode` into `counts`, replaces `redact` findings with
 * `replace(kind, value)`, and reports the first `block` finding.
 */
export function scanText(
  text: string,
  modeOf: (kind: PiiKind) => GuardrailMode | undefined,
  options: {
    kinds: ReadonlySet<PiiKind>;
    counts: FindingCounts;
    replace: (kind: PiiKind, value: string) => string;
    /** The matches when the caller already has them (within `text`). */
    matches?: PiiMatch[];
  },
): TextScan {
  const matches = options.matches ?? detectPii(text, options.kinds);
  if (matches.length === 0) return { text, blocked: null, matches };
  let out = "";
  let at = 0;
  let blocked: PiiKind | null = null;
  for (const m of matches) {
    const mode = modeOf(m.kind);
    if (!mode) continue;
    const label = `${m.kind}:${mode}`;
    options.counts[label] = (options.counts[label] ?? 0) + 1;
    if (mode === "block" && !blocked) blocked = m.kind;
    if (mode !== "redact") continue;
    out += text.slice(at, m.start) + options.replace(m.kind, text.slice(m.start, m.end));
    at = m.end;
  }
  return { text: at === 0 ? text : out + text.slice(at), blocked, matches };
}
