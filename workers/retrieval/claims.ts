/**
 * Deterministic text normalisation and claim extraction for the answer gate: numbers (digits or words,
 * thousands separators removed) with the unit after them, times of day, currencies, quoted spans and
 * proper names. No model is involved; the same text always gives the same claims.
 */

/** Spellings of one unit mapped to a canonical symbol (plural and singular, long and short). */
const unitSpellings: Record<string, string[]> = {
  m: ["m", "metre", "metres", "meter", "meters"],
  km: ["km", "kilometre", "kilometres", "kilometer", "kilometers"],
  cm: ["cm", "centimetre", "centimetres", "centimeter", "centimeters"],
  mm: ["mm", "millimetre", "millimetres", "millimeter", "millimeters"],
  ft: ["ft", "foot", "feet"],
  mi: ["mi", "mile", "miles"],
  kg: ["kg", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes"],
  g: ["g", "gram", "grams", "gramme", "grammes"],
  t: ["t", "tonne", "tonnes", "ton", "tons"],
  l: ["l", "litre", "litres", "liter", "liters"],
  ml: ["ml", "millilitre", "millilitres", "milliliter", "milliliters"],
  w: ["w", "watt", "watts"],
  kw: ["kw", "kilowatt", "kilowatts"],
  mw: ["mw", "megawatt", "megawatts"],
  kwh: ["kwh"],
  v: ["v", "volt", "volts"],
  hz: ["hz", "hertz"],
  "%": ["%", "percent", "pct"],
  s: ["s", "sec", "secs", "second", "seconds"],
  min: ["min", "mins", "minute", "minutes"],
  h: ["h", "hr", "hrs", "hour", "hours"],
  day: ["day", "days"],
  week: ["week", "weeks", "wk", "wks"],
  month: ["month", "months"],
  year: ["year", "years", "yr", "yrs"],
  ha: ["ha", "hectare", "hectares"],
  mp: ["mp", "megapixel", "megapixels"],
  c: ["°c", "celsius", "degree", "degrees"],
  usd: ["$", "usd", "dollar", "dollars"],
  eur: ["€", "eur", "euro", "euros"],
  gbp: ["£", "gbp", "pound", "pounds"],
  nok: ["kr", "nok", "krone", "kroner", "sek", "dkk", "kronor", "krona"],
  db: ["db", "decibel", "decibels"],
};
const unitOf = new Map<string, string>(
  Object.entries(unitSpellings).flatMap(([canonical, spellings]) => spellings.map((s) => [s, canonical])),
);
const currencySymbols = new Set(["$", "€", "£"]);

const smallNumbers = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const wordValue = new Map<string, number>([
  ...smallNumbers.map((w, i) => [w, i] as [string, number]),
  ...tens.flatMap((w, i) => (w ? [[w, i * 10] as [string, number]] : [])),
]);
const multipliers = new Map<string, number>([
  ["hundred", 100],
  ["thousand", 1_000],
  ["million", 1_000_000],
  ["billion", 1_000_000_000],
  ["dozen", 12],
]);

/** Lower case, unified dashes/quotes, no diacritics, thousands separators and ordinals dropped. */
export function normaliseText(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[\u2010-\u2015\u2212]/g, "-")
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/(\d)[,\u00a0\u202f\u2009'](?=\d{3}(?!\d))/g, "$1")
    .replace(/(\d)[,\u00a0\u202f\u2009'](?=\d{3}(?!\d))/g, "$1")
    .replace(/(?<![\d.])(\d{1,3}) (?=\d{3}(?![\d.]))/g, "$1")
    .replace(/\b(\d+)(st|nd|rd|th)\b/g, "$1")
    .replace(/\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-([a-z]+)\b/g, "$1 $2")
    .replace(/\b(\d{1,2})[:.](\d{2})\s*(a\.?m\.?|p\.?m\.?)/g, (_, h: string, m: string, p: string) =>
      clock(h, m, p),
    )
    .replace(/\b(\d{1,2})\s*(a\.m\.|p\.m\.|am|pm)(?![a-z])/g, (_, h: string, p: string) => clock(h, "00", p));
}

function clock(hours: string, minutes: string, period: string): string {
  let h = Number(hours) % 12;
  if (period.startsWith("p")) h += 12;
  return `${h}:${minutes}`;
}

/** Word and number tokens of normalised text; currency and percent signs are tokens of their own. */
export function tokenise(normalised: string): string[] {
  return normalised.match(/\d+:\d{2}|\d+(?:\.\d+)?|[a-z][a-z0-9]*(?:-[a-z0-9]+)*|[$€£%]|°c/g) ?? [];
}

/** A number in the text with what follows it: a canonical unit, or the words just after it. */
export interface Quantity {
  value: number;
  /** Canonical unit when one follows (or a currency precedes) the number. */
  unit?: string;
  /** Up to three tokens after the number, for counted nouns ("eight Kestrel trams"). */
  after: string[];
  /** The text as written in the tokens. */
  span: string;
}

function readNumberWords(tokens: readonly string[], start: number): { value: number; end: number } | null {
  let total = 0;
  let current = 0;
  let i = start;
  let seen = false;
  while (i < tokens.length) {
    const t = tokens[i] ?? "";
    const small = wordValue.get(t) ?? (/^\d+(\.\d+)?$/.test(t) && !seen ? Number(t) : undefined);
    const times = multipliers.get(t);
    if (small !== undefined && !(seen && current % 10 !== 0 && small < 10 && current > 0)) {
      current += small;
      seen = true;
    } else if (times !== undefined && (seen || t === "dozen")) {
      current = (current || 1) * times;
      if (times >= 1_000) {
        total += current;
        current = 0;
      }
      seen = true;
    } else if (t === "and" && seen && wordValue.has(tokens[i + 1] ?? "")) {
      // "two hundred and forty"
    } else break;
    i++;
  }
  if (!seen) return null;
  return { value: total + current, end: i };
}

/** Numbers (digits or words, with multipliers) and their units, in order of appearance. */
export function extractQuantities(tokens: readonly string[]): Quantity[] {
  const out: Quantity[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i] ?? "";
    const isNumber = /^\d+(\.\d+)?$/.test(t) || wordValue.has(t) || (t === "dozen" && i > 0);
    if (!isNumber) {
      i++;
      continue;
    }
    const read = readNumberWords(tokens, i);
    if (!read) {
      i++;
      continue;
    }
    const before = tokens[i - 1] ?? "";
    let unit = currencySymbols.has(before) ? unitOf.get(before) : undefined;
    const next = tokens[read.end] ?? "";
    const nextUnit = unitOf.get(next.replace(/^-/, ""));
    if (!unit && nextUnit) unit = nextUnit;
    const after = tokens.slice(read.end, read.end + 3);
    const quantity: Quantity = { value: read.value, after, span: tokens.slice(i, read.end).join(" ") };
    if (unit) quantity.unit = unit;
    // A bare "one" is mostly a pronoun or article ("one of the…"); it counts only with a unit.
    if (!(quantity.span === "one" && !unit)) out.push(quantity);
    i = read.end;
  }
  return out;
}

/** Times of day ("9:30") in normalised tokens. */
export function extractTimes(tokens: readonly string[]): string[] {
  return tokens.filter((t) => /^\d+:\d{2}$/.test(t));
}

/** Spans between straight or curly double quotes, at least two characters long. */
export function extractQuoted(text: string): string[] {
  return [...text.matchAll(/["\u201c]([^"\u201c\u201d]{2,200})["\u201d]/g)].map((m) => m[1] ?? "");
}

const notNames = new Set([
  "i",
  "the",
  "a",
  "an",
  "it",
  "its",
  "this",
  "that",
  "these",
  "those",
  "yes",
  "no",
  "based",
  "according",
  "answer",
  "context",
  "passage",
  "passages",
  "source",
  "question",
]);

/**
 * Proper names and product codes: capitalised words that do not start a sentence, and words mixing
 * letters and digits ("R290", "HP-9") anywhere. Returned lower-cased, possessive 's removed.
 */
export function extractNames(text: string): string[] {
  const names: string[] = [];
  const sentences = text.replace(/\[\d+\]/g, " ").split(/(?<=[.!?:;])\s+|\n+/);
  for (const sentence of sentences) {
    const words = sentence.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? [];
    words.forEach((raw, index) => {
      const word = raw.replace(/['’]s$/u, "").replace(/['’-]+$/u, "");
      const lower = normaliseText(word);
      if (notNames.has(lower) || unitOf.has(lower) || lower.length < 2) return;
      const code = /\p{L}/u.test(word) && /\p{N}/u.test(word);
      const capitalised = /^\p{Lu}/u.test(word) && index > 0;
      if (code || capitalised) names.push(lower);
    });
  }
  return names;
}

/** Light stemming for term comparison: plural and common verb endings removed. */
export function stem(word: string): string {
  if (word.length <= 3) return word;
  let out = word;
  if (out.endsWith("ies")) out = `${out.slice(0, -3)}y`;
  else if (out.endsWith("ing") && out.length > 5) out = out.slice(0, -3);
  else if (out.endsWith("ed") && out.length > 4) out = out.slice(0, -2);
  else if (/(sh|ch|x|ss)es$/.test(out)) out = out.slice(0, -2);
  else if (out.endsWith("s") && !out.endsWith("ss")) out = out.slice(0, -1);
  // "operate", "operated", "operates" → "operat"
  return out.length > 4 && out.endsWith("e") ? out.slice(0, -1) : out;
}

/** Removes list markers ("1.", "(2)", "[3]") and passage labels, which are not claims. */
export function stripMarkers(text: string): string {
  return text
    .replace(/\(source:[^)]*\)/gi, " ")
    .replace(/\[\d+\]|\(\d+\)/g, " ")
    .replace(/(^|\n|[.!?]\s)\s*\d+[.)]\s/g, "$1 ");
}

/**
 * A token in canonical form for comparing texts: number words as digits, unit spellings as their
 * symbol, other words stemmed.
 */
export function canonicalToken(token: string): string {
  const value = wordValue.get(token);
  if (value !== undefined) return String(value);
  return unitOf.get(token) ?? stem(token);
}
