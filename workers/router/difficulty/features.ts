/**
 * Features of a request for the difficulty classifier: hashed words, word pairs, the opening words and
 * in-word character 4-grams (so "traduce", "traduis" and "translate"-like stems share evidence across
 * languages), plus a few dense cues (length, requested length, code and maths markers, embedded text).
 * Everything is computed in-process in microseconds: no model call on the request path.
 */

/** Bumped whenever the features change: a model trained on other features is refused. */
export const featureVersion = 2;

/** A sparse vector: feature index → value. */
export type SparseVector = Map<number, number>;

/** Dense cue names, in index order after the hashed buckets. */
export const denseFeatureNames = [
  "bias",
  "log_chars",
  "log_words",
  "lines",
  "requested_length",
  "code_chars",
  "code_fence",
  "digits",
  "math_ops",
  "questions",
  "quoted_text",
  "enumerations",
  "non_ascii",
  "pasted_reference",
  "constraints",
  "verb_translate",
  "verb_summarise",
  "verb_rewrite",
  "verb_code",
  "verb_extract",
  "verb_classify",
  "verb_reason",
  "verb_write",
  "verb_question",
  "verb_long",
] as const;

/**
 * Instruction families in the languages the set covers (stems, so inflections match). Cues for the
 * learned weights, not rules: a prompt may match several or none.
 */
const families: RegExp[] = [
  /\b(translat|tradu[cizs]|übersetz|traduz|localis|how do you say|in (french|spanish|german|italian|japanese|english|portuguese|dutch|russian|chinese))/i,
  /\b(summar|résum|resum|zusammenfass|fasse|tl;?dr|condense|shorten|headline|one[- ]line|in one sentence|synthes)/i,
  /\b(rewrite|rephrase|paraphras|reword|reescrib|corrige|correct the|fix the (grammar|spelling)|make (this|it) (more|less|shorter|friendlier|sound)|schreibe .* um|plain english|capitali[sz]e|convert .* (plural|past|passive))/i,
  /\b(code|function|script|sql|regex|python|javascript|typescript|java\b|rust|golang|\bgo\b|c\+\+|bash|css|html|react|dockerfile|implement|refactor|compile|kernel|api|bug|deadlock|query|class\b)/i,
  /\b(extract|pull out|find (all|every|the)|list (all|every|the)|parse|extrae|extraia|identify all|what is the (date|price|number)|get the)/i,
  /\b(classif|clasific|categor|label|sentiment|spam|toxic|intent|positive or negative|yes or no|true or false|fact or opinion|which category|tag this|rate the|is this (a|an)?|ist diese|detect)/i,
  /\b(prove|proof|solve|calculate|compute|how many|how much|puzzle|step by step|probability|equation|optimal|estimate|model when|nash|logic|si tengo|wie viel|was kostet|[0-9]\s*[+\-*/×]\s*[0-9])/i,
  /\b(write|draft|compose|essay|story|poem|haiku|limerick|speech|screenplay|novel|chapter|blog|article|op-ed|business plan|proposal|curriculum|manual|escribe|écris|schreib|letter|bio\b|tweet|post)/i,
  /^(what|who|when|where|which|why|how|is|are|does|do|can|qu|quel|cuál|cual|wie|wer|was|¿)\b/i,
  /\b(detailed|comprehensive|thorough|in depth|full|complete|entire|\d[\d,.]*\s*(words|pages)|long|justify|discuss|analy[sz]e|compare|critique|evaluate|trade-?offs?)/i,
];

/** Index (within the dense cues) of the first instruction-family cue; they feed only the task-class head. */
export const firstFamilyCue = denseFeatureNames.indexOf("verb_translate");

/** The vector without the instruction-family cues (what the difficulty heads are trained on). */
export function withoutFamilies(x: SparseVector, buckets: number): SparseVector {
  const out: SparseVector = new Map();
  for (const [i, value] of x) if (i < buckets + firstFamilyCue) out.set(i, value);
  return out;
}

/** Only the first and last characters of long prompts are hashed (the ends carry the instruction). */
const headChars = 2_000;
const tailChars = 1_000;

/** FNV-1a over the UTF-16 code units, 32-bit. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function add(vector: SparseVector, index: number, value: number): void {
  vector.set(index, (vector.get(index) ?? 0) + value);
}

/** Lower-cased word tokens (letters and digits of any script; apostrophes dropped). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

const requestedLength =
  /(\d[\d,.]*)\s*(?:-|–|to)?\s*(?:\d[\d,.]*\s*)?(words?|pages?|palabras|mots|wörter|parole|palavras|minutes?|chapters?|lines?|sentences?|paragraphs?|bullet points?)/i;

/** The size of output the prompt asks for, in rough words (0 when it names none). */
function requestedWords(text: string): number {
  const match = requestedLength.exec(text);
  if (!match) return 0;
  const count = Number((match[1] ?? "0").replace(/[,.](?=\d{3}\b)/g, "").replace(",", "."));
  if (!Number.isFinite(count)) return 0;
  const unit = (match[2] ?? "").toLowerCase();
  if (unit.startsWith("page")) return count * 400;
  if (unit.startsWith("minute")) return count * 130;
  if (unit.startsWith("chapter")) return count * 3_000;
  if (unit.startsWith("paragraph")) return count * 80;
  if (unit.startsWith("sentence") || unit.startsWith("line") || unit.startsWith("bullet")) return count * 15;
  return count;
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/** The dense cues, each scaled to roughly [0, 1]. */
export function denseFeatures(text: string): number[] {
  const chars = text.length;
  const tokens = words(text);
  const requested = requestedWords(text);
  return [
    1,
    Math.log1p(chars) / 10,
    Math.log1p(tokens.length) / 8,
    Math.min(1, count(text, /\n/g) / 20),
    requested > 0 ? Math.log1p(requested) / 8 : 0,
    Math.min(1, count(text, /[{};=<>[\]()`]/g) / 20),
    /```|^\s{4}\S/m.test(text) ? 1 : 0,
    Math.min(1, count(text, /\d/g) / 40),
    Math.min(1, count(text, /[+\-*/^=%]/g) / 20),
    Math.min(1, count(text, /\?/g) / 3),
    /["“«„'‘][^"”»“'’]{25,}["”»“'’]/.test(text) ? 1 : 0,
    Math.min(1, count(text, /(^|\s)(\(?\d{1,2}[).]|\[\d+\]|[a-e]\))\s/g) / 8),
    chars > 0 ? Math.min(1, (count(text, /[^\p{ASCII}]/gu) / chars) * 10) : 0,
    /\b(pasted|below|attached|following|here is|here are)\b/i.test(text) ? 1 : 0,
    Math.min(1, count(text, /,|;|\band\b|\bthen\b/gi) / 15),
    ...families.map((family) => (family.test(text.slice(0, headChars)) ? 1 : 0)),
  ];
}

/** The part of a prompt that is hashed: all of a short one, the head and tail of a long one. */
function hashedPart(text: string): string {
  if (text.length <= headChars + tailChars) return text;
  return `${text.slice(0, headChars)} ${text.slice(-tailChars)}`;
}

/**
 * The sparse feature vector of a prompt: `buckets` hashed buckets (words, word pairs, the first three
 * words, character 4-grams), then the dense cues at indices `buckets…`. Token counts are scaled by
 * 1/√n so long prompts do not swamp the dense cues.
 */
export function featurize(text: string, buckets: number): SparseVector {
  const vector: SparseVector = new Map();
  const tokens = words(hashedPart(text));
  const hashed: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i] as string;
    hashed.push(`w:${word}`);
    if (i + 1 < tokens.length) hashed.push(`b:${word} ${tokens[i + 1]}`);
    if (i < 3) hashed.push(`f${i}:${word}`);
    const padded = `<${word}>`;
    for (let j = 0; j + 4 <= padded.length && word.length > 2; j++)
      hashed.push(`c:${padded.slice(j, j + 4)}`);
  }
  const scale = hashed.length > 0 ? 1 / Math.sqrt(hashed.length) : 0;
  for (const feature of hashed) add(vector, fnv1a(feature) % buckets, scale);
  denseFeatures(text).forEach((value, i) => {
    if (value !== 0) vector.set(buckets + i, value);
  });
  return vector;
}

/** Dense features appended to an embedding (for the embedding classifier the eval measures). */
export function embeddingFeatures(embedding: readonly number[], text: string): SparseVector {
  const vector: SparseVector = new Map();
  embedding.forEach((value, i) => {
    vector.set(i, value);
  });
  denseFeatures(text).forEach((value, i) => {
    if (value !== 0) vector.set(embedding.length + i, value);
  });
  return vector;
}
