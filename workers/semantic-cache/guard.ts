/**
 * The near-miss guard. Embeddings place "price of plan A" and "price of plan B" side by side, so a
 * semantic hit also needs the two prompts to agree on the tokens that tell such questions apart:
 * numbers, identifiers (single capitals, tokens with digits, underscores or inner capitals), names
 * (capitalised words not opening a sentence), quoted strings, negation and words of direction or
 * degree. Each such token of one prompt must occur in the other (case-insensitive), and both must be
 * negated alike.
 */

/** Words that flip or scale a question; one side having one the other lacks makes a near-miss. */
const contrastWords = new Set([
  "largest",
  "smallest",
  "biggest",
  "most",
  "least",
  "max",
  "maximum",
  "min",
  "minimum",
  "before",
  "after",
  "increase",
  "decrease",
  "above",
  "below",
  "first",
  "last",
  "buy",
  "sell",
  "more",
  "less",
  "higher",
  "lower",
  "best",
  "worst",
  "add",
  "remove",
  "delete",
  "enable",
  "disable",
  "import",
  "export",
  "encrypt",
  "decrypt",
  "open",
  "close",
  "start",
  "stop",
  "upload",
  "download",
  "cheapest",
  "fastest",
  "slowest",
  "oldest",
  "newest",
  "youngest",
  "longest",
  "shortest",
  "highest",
  "lowest",
  "north",
  "south",
  "east",
  "west",
  "left",
  "right",
  "up",
  "down",
  "input",
  "output",
  "send",
  "receive",
  "win",
  "lose",
  "hot",
  "cold",
  "male",
  "female",
  "yesterday",
  "today",
  "tomorrow",
  "weekly",
  "monthly",
  "daily",
  "yearly",
  "annual",
  "celsius",
  "fahrenheit",
  "km",
  "miles",
  "kg",
  "pounds",
  "dollars",
  "euros",
  "morning",
  "evening",
  "night",
  "early",
  "late",
  "inside",
  "outside",
  "past",
  "future",
]);

const negations = new Set(["not", "no", "never", "without", "neither", "nor", "none", "cannot", "nothing"]);

/** Words that open questions and commands; capitalised at a sentence start they name nothing. */
const wordPattern = /[\p{L}\p{N}][\p{L}\p{N}_'’.-]*[\p{L}\p{N}]|[\p{L}\p{N}]/gu;

interface Profile {
  /** Every word, lower-cased (apostrophes kept out of the comparison). */
  words: Set<string>;
  /** Tokens the other prompt must contain. */
  distinguishing: Set<string>;
  negated: number;
}

function normaliseWord(word: string): string {
  return word.toLowerCase().replace(/[’']/g, "'");
}

function quotedStrings(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/["“”«»`]([^"“”«»`]{1,200})["“”«»`]/g)) {
    const inner = match[1]?.trim().toLowerCase();
    if (inner) out.push(inner);
  }
  return out;
}

function isIdentifier(word: string): boolean {
  if (/\d/.test(word)) return true;
  if (word.includes("_")) return true;
  if (/^[A-Z]$/.test(word)) return true;
  return /^[a-z]+[A-Z]/.test(word) || /^[A-Z]{2,}/.test(word);
}

/** Where the sentence starts: the text start, or after `.`, `!`, `?`, `:` and a space. */
function startsSentence(text: string, index: number): boolean {
  const before = text.slice(0, index).trimEnd();
  return before === "" || /[.!?:;\n]$/.test(before);
}

function profile(text: string): Profile {
  const words = new Set<string>();
  const distinguishing = new Set<string>();
  let negated = 0;
  for (const match of text.matchAll(wordPattern)) {
    const raw = match[0];
    const word = normaliseWord(raw);
    words.add(word);
    if (word.endsWith("n't")) {
      negated += 1;
      words.add(word.slice(0, -3));
      continue;
    }
    if (negations.has(word)) negated += 1;
    if (isIdentifier(raw) && raw !== "I") distinguishing.add(word);
    else if (/^\p{Lu}/u.test(raw) && raw !== "I" && !startsSentence(text, match.index ?? 0)) {
      distinguishing.add(word);
    } else if (contrastWords.has(word)) distinguishing.add(word);
  }
  const lowered = text.toLowerCase();
  for (const quoted of quotedStrings(text)) distinguishing.add(`"${quoted}"`);
  return {
    words: new Set([...words, ...quotedStrings(lowered).map((q) => `"${q}"`)]),
    distinguishing,
    negated,
  };
}

/** The first distinguishing token of `a` missing from `b`, if any. */
function missingFrom(a: Profile, b: Profile): string | undefined {
  for (const token of a.distinguishing) if (!b.words.has(token)) return token;
  return undefined;
}

/** Why two prompts are not the same question, or null when the guard lets a semantic hit through. */
export function nearMissReason(a: string, b: string): string | null {
  const pa = profile(a);
  const pb = profile(b);
  if (pa.negated % 2 !== pb.negated % 2) return "negation";
  const missing = missingFrom(pa, pb) ?? missingFrom(pb, pa);
  return missing === undefined ? null : `token:${missing}`;
}
