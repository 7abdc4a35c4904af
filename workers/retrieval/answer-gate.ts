/**
 * The second gate: after generation, decide deterministically whether the answer is supported by the
 * passages it was generated from. Model-free and a few milliseconds at most.
 *
 * 1. Sentinel: the model replied with the prompt's abstain sentinel (or plainly said it does not know).
 * 2. Claims: every number with its unit, time, quoted span and proper name in the answer occurs in
 *    the passages after normalisation.
 * 3. Answer type: a question that asks for an amount, a price, a date or a person gets an answer that
 *    holds a supported claim of that kind (a measure in the asked dimension) which the question did not
 *    already state.
 * 4. Question coverage: the passage sentences the answer draws on (with the passage's heading) hold at
 *    least `minCoverage` of the question's attribute terms (content words that do not name the entity),
 *    so an answer about another attribute of the same entity (a maker given for a warranty) is withheld.
 *
 * An answer failing only on claims is first cut back to a clause prefix that passes (see `verifyAnswer`).
 */
import type { z } from "zod";
import type { gateReasonSchema } from "../../shared/schemas/answer.ts";
import {
  canonicalToken,
  extractNames,
  extractQuantities,
  extractQuoted,
  extractTimes,
  normaliseText,
  type Quantity,
  stem,
  stripMarkers,
  tokenise,
} from "./claims.ts";
import { isSentinelReply } from "./prompt.ts";
import {
  currencies,
  type ExpectedType,
  expectedType,
  frequencyWords,
  months,
  stopwords,
  synonyms,
  unitFitsQuestion,
  weekdays,
} from "./question-kinds.ts";

export interface GateOptions {
  /** Share of the question's content terms the supporting sentences must hold, in [0, 1]. */
  minCoverage: number;
  /** Turns single checks off (all on by default): the eval measures what each one earns. */
  checks?: Partial<Record<GateCheck, boolean>>;
}

export type GateCheck = "sentinel" | "claims" | "type" | "coverage" | "trim";

export type GateReason = z.infer<typeof gateReasonSchema>;

/** The gate as a dependency: the answer paths call it after generation, before anything is sent. */
export type AnswerGate = (input: {
  question: string;
  answer: string;
  passages: readonly string[];
}) => GateVerdict;

/** The gate with fixed options. */
export function createAnswerGate(options: GateOptions): AnswerGate {
  return (input) => verifyAnswer(input, options);
}

export interface GateVerdict {
  supported: boolean;
  reason?: GateReason;
  /** The answer's spans not found in the passages (or the question terms the passages lack). */
  unsupported: string[];
  /** Question term coverage of the supporting sentences, in [0, 1]. */
  coverage: number;
  /** When supported after cutting unsupported trailing clauses off: the text to send instead. */
  answer?: string;
}

interface PassageIndex {
  tokens: Set<string>;
  stems: Set<string>;
  normalised: string;
  quantities: Quantity[];
  sentences: { tokens: string[]; heading: string[] }[];
}

function indexPassages(passages: readonly string[]): PassageIndex {
  const normalised = passages.map(normaliseText);
  const allTokens = normalised.flatMap(tokenise);
  const sentences = normalised.flatMap((text) => {
    const parts = text.split(/(?<=[.!?;])\s+|\n+/).filter((s) => s.trim().length > 0);
    const heading = tokenise(parts[0] ?? "");
    return parts.map((s) => ({ tokens: tokenise(s), heading }));
  });
  return {
    tokens: new Set(allTokens),
    stems: new Set(allTokens.map(stem)),
    normalised: normalised.join("\n"),
    quantities: normalised.flatMap((text) => extractQuantities(tokenise(text))),
    sentences,
  };
}

const emptyIndex = indexPassages([]);

function quantitySupported(q: Quantity, index: PassageIndex): boolean {
  const noun = q.after[0];
  const counted = q.unit === undefined && noun !== undefined && /^[a-z]/.test(noun) && !stopwords.has(noun);
  return index.quantities.some((p) => {
    if (p.value !== q.value) return false;
    if (q.unit !== undefined) return p.unit === q.unit;
    if (!counted || months.has(noun)) return true;
    return p.after.some((w) => stem(w) === stem(noun)) || p.unit !== undefined;
  });
}

function describe(q: Quantity): string {
  return q.unit ? `${q.span} ${q.unit}` : [q.span, ...q.after.slice(0, 1)].join(" ");
}

interface Claims {
  quantities: Quantity[];
  names: string[];
  times: string[];
  unsupported: string[];
}

function unsupportedIn(text: string, index: PassageIndex): string[] {
  const tokens = tokenise(normaliseText(text));
  const unsupported: string[] = [];
  for (const q of extractQuantities(tokens)) if (!quantitySupported(q, index)) unsupported.push(describe(q));
  for (const t of extractTimes(tokens)) if (!index.tokens.has(t)) unsupported.push(t);
  for (const n of new Set(extractNames(text))) {
    const parts = tokenise(n);
    if (!parts.every((p) => index.tokens.has(p) || index.stems.has(stem(p)))) unsupported.push(n);
  }
  for (const quote of extractQuoted(text)) {
    if (!index.normalised.includes(normaliseText(quote).trim())) unsupported.push(`"${quote}"`);
  }
  return unsupported;
}

/**
 * The answer's claims, and those no passage holds. The claims of one answer sentence must all occur in
 * one passage: "opened on 14 May 1931" is not supported by "14 May" in one passage and "1931" in another.
 */
function checkClaims(answer: string, passages: readonly PassageIndex[]): Claims {
  const tokens = tokenise(normaliseText(answer));
  const sentences = answer
    .replace(/\[\d+\]/g, " ")
    .split(/(?<=[.!?;])\s+|\n+/)
    .filter((s) => s.trim().length > 0);
  const unsupported: string[] = [];
  for (const sentence of sentences) {
    const options =
      passages.length > 0
        ? passages.map((p) => unsupportedIn(sentence, p))
        : [unsupportedIn(sentence, emptyIndex)];
    const fewest = options.reduce((a, b) => (b.length < a.length ? b : a));
    unsupported.push(...fewest);
  }
  return {
    quantities: extractQuantities(tokens),
    names: [...new Set(extractNames(answer))],
    times: extractTimes(tokens),
    unsupported: [...new Set(unsupported)],
  };
}

function hasExpected(type: ExpectedType, claims: Claims, answer: string, question: string): boolean {
  if (type === "any") return true;
  const questionTokens = tokenise(normaliseText(question));
  const asked = new Set(extractQuantities(questionTokens).map((q) => q.value));
  const askedWords = new Set(questionTokens);
  const answerTokens = tokenise(normaliseText(answer));
  const fresh = claims.quantities.filter((q) => !asked.has(q.value));
  switch (type) {
    case "money":
      return (
        fresh.some((q) => q.unit !== undefined && currencies.has(q.unit)) || answerTokens.includes("free")
      );
    case "count":
      return fresh.length > 0;
    case "measure":
      return fresh.some((q) => q.unit !== undefined && unitFitsQuestion(question, q.unit));
    case "frequency":
      return fresh.length > 0 || answerTokens.some((t) => frequencyWords.has(t));
    case "time":
      return claims.times.length > 0 || answerTokens.some((t) => weekdays.has(t));
    case "date":
      return (
        fresh.some((q) => q.value >= 1000 && q.value <= 2200) ||
        answerTokens.some((t) => months.has(t) && !askedWords.has(t)) ||
        claims.times.length > 0
      );
    case "name":
      return claims.names.some((n) => !askedWords.has(n)) || leadingName(answer, askedWords);
  }
}

/** A capitalised answer start that is not in the question ("Ruth Greyhill planted it."). */
function leadingName(answer: string, askedWords: Set<string>): boolean {
  const first = /^\s*(\p{Lu}[\p{L}-]+)/u.exec(answer)?.[1];
  if (!first) return false;
  const lower = normaliseText(first);
  return !stopwords.has(lower) && !askedWords.has(lower);
}

/**
 * The question's attribute terms: its content words minus the entity's (capitalised words of the
 * question, words of the passages' headings). "What is the warranty of the Skarv K3 kettle?" → warranty.
 */
function attributeTerms(question: string, index: PassageIndex): string[] {
  const entity = new Set([
    ...extractNames(`x ${question}`).flatMap(tokenise).map(stem),
    ...index.sentences.flatMap((s) => s.heading).map(stem),
  ]);
  const terms = tokenise(normaliseText(question)).filter((t) => /^[a-z]/.test(t) && !stopwords.has(t));
  return [...new Set(terms.map(stem))].filter((t) => !entity.has(t));
}

function supportingStems(answer: string, question: string, claims: Claims, index: PassageIndex): Set<string> {
  const answerStems = new Set(tokenise(normaliseText(answer)).map(stem));
  const asked = new Set(tokenise(normaliseText(question)));
  const marks = new Set(
    [...claims.names.flatMap(tokenise), ...claims.times, ...claims.quantities.map((q) => String(q.value))]
      .filter((t) => !asked.has(t))
      .map(canonicalToken),
  );
  const scored = index.sentences.map((s, i) => ({
    i,
    marked: s.tokens.some((t) => marks.has(canonicalToken(t))),
    overlap: s.tokens.filter((t) => answerStems.has(stem(t)) && !stopwords.has(t)).length,
  }));
  let chosen = scored.filter((s) => s.marked);
  if (chosen.length === 0) {
    const top = Math.max(0, ...scored.map((s) => s.overlap));
    chosen = top > 0 ? scored.filter((s) => s.overlap === top) : [];
  }
  const out = new Set<string>();
  for (const { i } of chosen) {
    const sentence = index.sentences[i];
    const previous = index.sentences[i - 1];
    for (const t of [
      ...(sentence?.tokens ?? []),
      ...(sentence?.heading ?? []),
      ...(previous?.tokens ?? []),
    ]) {
      out.add(stem(t));
    }
  }
  return out;
}

/** The synonym table keyed and valued by stems, as terms and windows are compared. */
const stemmedSynonyms = new Map<string, string[]>(
  Object.entries(synonyms).map(([word, alternatives]) => [stem(word), alternatives.map(stem)]),
);

function covered(term: string, window: Set<string>): boolean {
  if (window.has(term)) return true;
  const alternatives = stemmedSynonyms.get(term) ?? [];
  return alternatives.some((alt) => [...window].some((w) => w.startsWith(alt)));
}

/** Clause ends an answer may be cut at: ", which …", "; …", ". …", " and …". */
const clauseEnd = /[,;:]\s|\.\s|\s(?:which|and|but|while|because|as)\s/g;

/**
 * Runs the gate on one generated answer against the passages it was given. An answer that fails only
 * on unsupported claims is cut back to its longest clause prefix that passes every check (the gate's
 * `trim`): "… 9 kilowatts of heat, which is equivalent to 9000…" is sent as "… 9 kilowatts of heat."
 */
export function verifyAnswer(
  input: { question: string; answer: string; passages: readonly string[] },
  options: GateOptions,
): GateVerdict {
  const verdict = judge(input, options);
  if (verdict.supported || verdict.reason !== "unsupported_claims" || options.checks?.trim === false) {
    return verdict;
  }
  const cuts = [...input.answer.matchAll(clauseEnd)].map((m) => m.index).filter((i) => i > 0);
  for (const at of cuts.reverse()) {
    const prefix = input.answer.slice(0, at).trim();
    const trimmed = judge({ ...input, answer: prefix }, options);
    if (trimmed.supported) return { ...trimmed, answer: `${prefix}.` };
  }
  return verdict;
}

function judge(
  input: { question: string; answer: string; passages: readonly string[] },
  options: GateOptions,
): GateVerdict {
  const { question, passages } = input;
  const answer = stripMarkers(input.answer);
  const on = (check: GateCheck) => options.checks?.[check] !== false;
  if (on("sentinel") && isSentinelReply(answer))
    return { supported: false, reason: "sentinel", unsupported: [], coverage: 0 };
  const index = indexPassages(passages);
  const claims = checkClaims(
    answer,
    passages.map((p) => indexPassages([p])),
  );
  const terms = attributeTerms(question, index);
  const window = supportingStems(answer, question, claims, index);
  const missing = terms.filter((t) => !covered(t, window));
  const coverage = terms.length === 0 ? 1 : (terms.length - missing.length) / terms.length;
  if (on("claims") && claims.unsupported.length > 0) {
    return { supported: false, reason: "unsupported_claims", unsupported: claims.unsupported, coverage };
  }
  if (on("type") && !hasExpected(expectedType(question), claims, answer, question)) {
    return { supported: false, reason: "answer_type", unsupported: [], coverage };
  }
  if (on("coverage") && coverage < options.minCoverage) {
    return { supported: false, reason: "question_terms", unsupported: missing, coverage };
  }
  return { supported: true, unsupported: [], coverage };
}
