/**
 * What a question asks for, deterministically: the kind of fact (a price, a measure, a count, a date,
 * a time, a name) and the words that do not carry its attribute. Used by the answer gate.
 */
import { normaliseText } from "./claims.ts";

/** The kind of fact a question asks for (`any` when it names none). */
export type ExpectedType = "money" | "measure" | "count" | "date" | "time" | "name" | "frequency" | "any";

/** Words that carry no attribute of the question (function words, wh-words, kind words). */
export const stopwords = new Set(
  (
    "a an the of in on at to for from by with and or is are was were be been being do does did has have had " +
    "it its this that these those there their they them he she his her what which who whom whose when where " +
    "why how can could should would will may might must shall about into over under per each every any all " +
    "as than then so if not no up out get got make made much many long tall high large big wide heavy far " +
    "old deep often fast loud number amount total one ever also some month year date time name kind type use used"
  ).split(" "),
);

/** Month names: a date answer may be one. */
export const months = new Set(
  "january february march april may june july august september october november december".split(" "),
);
/** Day names: an opening-hours answer may be one. */
export const weekdays = new Set("monday tuesday wednesday thursday friday saturday sunday".split(" "));
/** Words that answer "how often". */
export const frequencyWords = new Set([
  "once",
  "twice",
  "daily",
  "weekly",
  "monthly",
  "yearly",
  "annually",
  "every",
]);
/** Canonical currency units (see `claims.ts`): a price answer carries one. */
export const currencies = new Set(["usd", "eur", "gbp", "nok"]);

/** Question words whose meaning the passages usually state with another word. */
export const synonyms: Record<string, string[]> = {
  price: ["cost", "priced", "sell", "sold"],
  cost: ["price", "priced"],
  fee: ["cost", "charge", "price"],
  make: ["made", "manufacture", "produce", "build", "built"],
  built: ["build", "construct", "made", "make"],
  start: ["found", "begin", "began", "establish", "launch"],
  run: ["operate", "manage"],
  operate: ["run", "manage"],
  loan: ["borrow", "lend"],
  borrow: ["loan", "lend"],
  weigh: ["weight", "mass"],
  tall: ["height", "high"],
  height: ["tall", "high"],
  power: ["watt", "w", "kw", "draw", "deliver"],
  size: ["hectare", "area", "larg"],
  carry: ["carrie", "hold", "capacity"],
  hold: ["carry", "capacity", "contain"],
  open: ["opened", "inaugurat"],
  design: ["architect", "designer"],
  plant: ["planted", "grow"],
  colour: ["color", "paint", "repaint"],
  color: ["colour", "paint", "repaint"],
  employ: ["staff", "worker", "employee", "work"],
  staff: ["employ", "worker", "work"],
  found: ["establish", "start", "set"],
  length: ["long"],
  width: ["wide", "across"],
  wide: ["width", "across"],
  weight: ["weigh", "heavy", "mass"],
  duration: ["take", "last"],
  visitor: ["visit", "guest"],
  altitude: ["elevation", "height"],
  release: ["launch", "introduc"],
  service: ["servic", "maintain", "maintenance"],
};

/** The kind of fact the question asks for, from its wording. */
export function expectedType(question: string): ExpectedType {
  const q = normaliseText(question);
  if (/\b(price|cost|costs|fee|fees|toll|fare|charge)\b/.test(q)) return "money";
  if (/\bhow often\b/.test(q)) return "frequency";
  if (/\b(what time|opening hours|operating hours|visiting hours|open hours)\b/.test(q)) return "time";
  if (
    /^(when|what year|which year|in what year|in which year|what date|in which month|which month)\b/.test(q)
  )
    return "date";
  if (/\bhow many\b/.test(q)) return "count";
  if (/\bhow (much|long|tall|high|wide|large|big|heavy|far|old|deep|fast|loud)\b/.test(q)) return "measure";
  if (/\b(what|which) is the (weight|height|length|width|range|power|speed|capacity|altitude|size)\b/.test(q))
    return "measure";
  if (/^(at what|what) (altitude|height|depth|temperature)\b/.test(q)) return "measure";
  if (/^(who|whom|whose)\b/.test(q)) return "name";
  return "any";
}

/** What each canonical unit measures. */
const dimensionOf: Record<string, string> = {
  m: "length",
  km: "length",
  cm: "length",
  mm: "length",
  ft: "length",
  mi: "length",
  kg: "mass",
  g: "mass",
  t: "mass",
  l: "volume",
  ml: "volume",
  w: "power",
  kw: "power",
  mw: "power",
  s: "time",
  min: "time",
  h: "time",
  day: "time",
  week: "time",
  month: "time",
  year: "time",
  c: "temperature",
  db: "loudness",
};

/** Question wordings that fix the dimension of the measure asked for. */
const askedDimensions: [RegExp, string[]][] = [
  [/\bhow (tall|high|wide|deep|far)\b|\b(height|altitude|width|depth|length|distance)\b/, ["length"]],
  [/\bhow long\b/, ["length", "time"]],
  [/\bhow heavy\b|\bweigh|\bweight\b|\bmass\b/, ["mass"]],
  [/\bhow old\b|\bhow much time\b/, ["time"]],
  [/\bhow loud\b|\bnoise\b/, ["loudness"]],
  [/\btemperature\b/, ["temperature"]],
];

/**
 * Whether a unit can answer the measure a question asks for: "how loud" is not answered in
 * centimetres, "how much does it weigh" not in litres. Questions that fix no dimension accept any unit.
 */
export function unitFitsQuestion(question: string, unit: string): boolean {
  const q = normaliseText(question);
  const wanted = askedDimensions.find(([pattern]) => pattern.test(q))?.[1];
  if (!wanted) return true;
  const dimension = dimensionOf[unit];
  return dimension !== undefined && wanted.includes(dimension);
}
