/**
 * The near-miss guard. Embeddings place "price of plan A" and "price of plan B" side by side, so a
 * semantic hit also needs the two prompts to agree on what tells such questions apart:
 * - identifiers, numbers, names and quoted strings: each one of either prompt must occur in the other
 *   (identifiers: single capitals, tokens with digits, underscores or inner capitals; names:
 *   capitalised words that do not open a sentence);
 * - negation: both negated, or neither;
 * - opposed words: one prompt saying "enable", "largest" or "per month" where the other says
 *   "disable", "smallest" or "per year" (groups of mutually exclusive words);
 * - direction: "X to Y" against "Y to X" ("convert Celsius to Fahrenheit" and back).
 */

/** Groups of words that exclude each other: one side using one, the other another, is a near-miss. */
const opposedGroups: readonly (readonly string[])[] = [
  ["day", "week", "month", "year", "hour", "minute", "second"],
  ["largest", "biggest", "smallest", "tiniest"],
  ["most", "least"],
  ["max", "maximum", "min", "minimum"],
  ["highest", "lowest"],
  ["higher", "lower"],
  ["high", "low"],
  ["more", "less", "fewer"],
  ["best", "worst"],
  ["fastest", "slowest"],
  ["faster", "slower"],
  ["cheapest", "priciest"],
  ["oldest", "youngest", "newest"],
  ["longest", "shortest"],
  ["first", "last", "next", "previous", "second", "third"],
  ["on", "off"],
  ["enable", "disable"],
  ["open", "close"],
  ["start", "stop", "end", "finish"],
  ["before", "after"],
  ["increase", "decrease", "reduce"],
  ["rise", "fall"],
  ["raise", "lower"],
  ["buy", "sell"],
  ["add", "remove", "delete"],
  ["install", "uninstall"],
  ["import", "export"],
  ["upload", "download"],
  ["encrypt", "decrypt"],
  ["connect", "disconnect"],
  ["lock", "unlock"],
  ["show", "hide"],
  ["read", "write"],
  ["win", "lose"],
  ["hot", "cold"],
  ["male", "female"],
  ["yesterday", "today", "tomorrow"],
  ["celsius", "fahrenheit"],
  ["north", "south", "east", "west"],
  ["left", "right"],
  ["up", "down"],
  ["input", "output"],
  ["send", "receive"],
  ["early", "late"],
  ["inside", "outside"],
  ["past", "future"],
  ["morning", "afternoon", "evening", "night"],
  ["weekday", "weekend"],
  ["import", "export"],
  ["domestic", "international"],
  ["soft", "hard"],
  ["simple", "compound"],
  ["special", "general"],
  ["fixed", "variable"],
];

const groupOf = new Map<string, number[]>();
opposedGroups.forEach((group, index) => {
  for (const word of group) groupOf.set(word, [...(groupOf.get(word) ?? []), index]);
});

const negations = new Set(["not", "no", "never", "without", "neither", "nor", "none", "cannot", "nothing"]);

/** Words that relate what stands before them to what stands after ("from" the other way round). */
const relations = new Set(["to", "into", "from", "per", "than", "on", "versus", "vs"]);

/** Words that carry no direction: skipped when finding what stands on either side of "to". */
const fillers = new Set(["a", "an", "the", "my", "your", "our", "their", "its", "this", "that", "some"]);

/** Forms that say the same thing: "monthly" and "per month" compare equal. */
const sameAs: Record<string, string> = {
  daily: "day",
  days: "day",
  weekly: "week",
  weeks: "week",
  monthly: "month",
  months: "month",
  yearly: "year",
  years: "year",
  annual: "year",
  annually: "year",
  hours: "hour",
  hourly: "hour",
  minutes: "minute",
  weekdays: "weekday",
  weekends: "weekend",
};

const wordPattern = /[\p{L}\p{N}][\p{L}\p{N}_'’.-]*[\p{L}\p{N}]|[\p{L}\p{N}]/gu;

interface Profile {
  /** Every word, lower-cased, in order. */
  sequence: string[];
  words: Set<string>;
  /** Tokens the other prompt must contain. */
  distinguishing: Set<string>;
  negated: number;
}

function normaliseWord(word: string): string {
  const lower = word.toLowerCase().replace(/[’']/g, "'");
  return sameAs[lower] ?? lower;
}

function quotedStrings(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/["“”«»`]([^"“”«»`]{1,200})["“”«»`]/g)) {
    const inner = match[1]?.trim().toLowerCase();
    if (inner) out.push(`"${inner}"`);
  }
  return out;
}

function isIdentifier(word: string): boolean {
  if (/\d/.test(word) || word.includes("_")) return true;
  if (/^[A-Z]$/.test(word)) return word !== "I";
  return /^[a-z]+[A-Z]/.test(word) || /^[A-Z]{2,}/.test(word);
}

/** Where the sentence starts: the text start, or after `.`, `!`, `?`, `:` or `;`. */
function startsSentence(text: string, index: number): boolean {
  const before = text.slice(0, index).trimEnd();
  return before === "" || /[.!?:;\n]$/.test(before);
}

function profile(text: string): Profile {
  const sequence: string[] = [];
  const distinguishing = new Set<string>();
  let negated = 0;
  for (const match of text.matchAll(wordPattern)) {
    const raw = match[0];
    let word = normaliseWord(raw);
    if (word.endsWith("n't")) {
      negated += 1;
      word = word === "can't" ? "can" : word === "won't" ? "will" : word.slice(0, -3);
    } else if (negations.has(word)) negated += 1;
    sequence.push(word);
    if (isIdentifier(raw)) distinguishing.add(word);
    else if (/^\p{Lu}/u.test(raw) && raw !== "I" && !startsSentence(text, match.index ?? 0)) {
      distinguishing.add(word);
    }
  }
  const quoted = quotedStrings(text);
  for (const q of quoted) distinguishing.add(q);
  return { sequence, words: new Set([...sequence, ...quoted]), distinguishing, negated };
}

/** The first distinguishing token of `a` missing from `b`, if any. */
function missingFrom(a: Profile, b: Profile): string | undefined {
  for (const token of a.distinguishing) if (!b.words.has(token)) return token;
  return undefined;
}

/** A word of `a` whose opposite (same group, not in `a`) is in `b` while `b` lacks the word itself. */
function opposed(a: Profile, b: Profile): string | undefined {
  for (const word of a.words) {
    if (b.words.has(word)) continue;
    for (const group of groupOf.get(word) ?? []) {
      const others = opposedGroups[group] ?? [];
      if (others.some((other) => other !== word && b.words.has(other) && !a.words.has(other))) return word;
    }
  }
  return undefined;
}

/** The words right before and after each relation word (what is converted, sent or travelled from and to). */
function directions(p: Profile): { before: Set<string>; after: Set<string> } {
  const before = new Set<string>();
  const after = new Set<string>();
  p.sequence.forEach((word, i) => {
    if (!relations.has(word)) return;
    const left = p.sequence.slice(0, i).filter((w) => !fillers.has(w));
    const right = p.sequence.slice(i + 1).filter((w) => !fillers.has(w));
    // "Y from X" says what "X to Y" says.
    const [source, target] = word === "from" ? [after, before] : [before, after];
    for (const w of left.slice(-2)) source.add(w);
    for (const w of right.slice(0, 2)) target.add(w);
  });
  return { before, after };
}

/** True when a word stands before "to" in one prompt and after it in the other, both ways round. */
function reversed(a: Profile, b: Profile): boolean {
  const da = directions(a);
  const db = directions(b);
  const crossed = (x: Set<string>, y: Set<string>) => [...x].some((w) => y.has(w) && !fillers.has(w));
  return crossed(da.before, db.after) && crossed(da.after, db.before);
}

/** Why two prompts are not the same question, or null when the guard lets a semantic hit through. */
export function nearMissReason(a: string, b: string): string | null {
  const pa = profile(a);
  const pb = profile(b);
  if (pa.negated % 2 !== pb.negated % 2) return "negation";
  const missing = missingFrom(pa, pb) ?? missingFrom(pb, pa);
  if (missing !== undefined) return `token:${missing}`;
  const opposite = opposed(pa, pb) ?? opposed(pb, pa);
  if (opposite !== undefined) return `opposed:${opposite}`;
  return reversed(pa, pb) ? "direction" : null;
}

/** Function words left out when comparing what two prompts are about. */
const stopWords = new Set(
  (
    "a an the i my me we our you your do does did is are was were be been can could should would will how " +
    "what whats what's which who when where why there their it its to of in on for with by from at as and " +
    "or if this that these those way get please tell explain any some all more than one per use using make " +
    "about into out up just vs"
  ).split(" "),
);

function stem(word: string): string {
  return word.replace(/ies$/, "y").replace(/(ing|ed|es|s)$/, "");
}

function contentWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? []).filter((w) => !stopWords.has(w));
}

/**
 * The content words one prompt has in place of the other's when they share the rest ("check if a key
 * exists" against "check if a value exists"): one or two on each side, at least one word shared. A swap
 * is a paraphrase only when its words mean alike (the caller compares their embeddings); null when the
 * prompts are not one small swap apart.
 */
export function swappedWords(a: string, b: string): { a: string[]; b: string[] } | null {
  const ca = contentWords(a);
  const cb = contentWords(b);
  const sa = new Set(ca.map(stem));
  const sb = new Set(cb.map(stem));
  const onlyA = [...new Set(ca.filter((w) => !sb.has(stem(w))))];
  const onlyB = [...new Set(cb.filter((w) => !sa.has(stem(w))))];
  const shared = ca.some((w) => sb.has(stem(w)));
  if (!shared || onlyA.length === 0 || onlyB.length === 0 || onlyA.length > 2 || onlyB.length > 2)
    return null;
  return { a: onlyA, b: onlyB };
}
