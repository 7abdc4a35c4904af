/**
 * PII and secret detectors: regular expressions for candidates, then a structural check per kind
 * (Luhn for cards, mod-97 for IBANs, ranges for IPv4, a parser for IPv6, date shapes refused as
 * phones). Pure functions without I/O, so they run in workerd, Deno, Bun and Node alike.
 */

/** The kinds of structured PII the gateway detects. */
export const piiKinds = ["email", "phone", "card", "iban", "ssn", "ip", "secret"] as const;
export type PiiKind = (typeof piiKinds)[number];

/** One detected span of `text`: `[start, end)`. */
export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
}

interface Detector {
  kind: PiiKind;
  pattern: RegExp;
  /** A cheap test the text must pass before the pattern runs at all (the pattern needs this character). */
  needs?: string;
  /** Whether the candidate really is this kind (the whole text is given for context checks). */
  accept?: (value: string, text: string, start: number) => boolean;
}

const email = /[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}\b/g;

// Cards: 13-19 digits, optionally grouped (4-4-4-4… or 4-6-5) by one consistent space or hyphen.
const card = /(?<![\d.,+-])(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -]?)\d{6}\2\d{4,5})(?![\d.,]\d)/g;

const iban = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g;

const ssn = /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])|(?<!\d)\d{9}(?!\d)/g;

const phone =
  /(?<![\w+])\+\d{1,3}[ .-]?(?:\(\d{1,4}\)|\d{1,4})(?:[ .-]\d{1,8}){1,5}(?![\w/:]|[.-]\d)|(?<![\w+.\-/:])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,6}){1,4}(?![\w/:]|[.-]\d)|(?<![\w+])\+\d{8,15}(?!\w)|(?<!\w)\d{10,11}(?!\w)/g;

const ipv4 =
  /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g;

const ipv6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g;

const secret = new RegExp(
  [
    String.raw`\bsk-(?:proj-|ant-(?:api\d{2}-)?|svcacct-|admin-)?[A-Za-z0-9_-]{20,}`,
    String.raw`\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b`,
    String.raw`\bgh[pousr]_[A-Za-z0-9]{36,}\b`,
    String.raw`\bgithub_pat_[A-Za-z0-9_]{40,}\b`,
    String.raw`\bglpat-[A-Za-z0-9_-]{20,}\b`,
    String.raw`\bxox[abprse]-[A-Za-z0-9-]{10,}`,
    String.raw`\bAIza[0-9A-Za-z_-]{35}\b`,
    String.raw`\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}\b`,
    String.raw`\bhf_[A-Za-z0-9]{30,}\b`,
    String.raw`\bnpm_[A-Za-z0-9]{36}\b`,
    String.raw`\btg_[0-9A-Za-z]{32}\b`,
    String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
    "-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----",
  ].join("|"),
  "g",
);

/** Luhn's checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes and lengths of the major card networks (an order number rarely has both). */
function cardNetworkValid(digits: string): boolean {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p4 = Number(digits.slice(0, 4));
  if (digits[0] === "4") return n === 13 || n === 16 || n === 19;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (p4 === 6011 || p2 === 65 || (p4 >= 6440 && p4 <= 6499)) return n >= 16 && n <= 19;
  if (p2 === 35) return n >= 16 && n <= 19;
  if (p2 === 36 || p2 === 38 || (p4 >= 3000 && p4 <= 3059)) return n >= 14 && n <= 19;
  if (p2 === 62) return n >= 16 && n <= 19;
  return false;
}

function acceptCard(value: string): boolean {
  const digits = value.replace(/[ -]/g, "");
  return digits.length >= 13 && digits.length <= 19 && cardNetworkValid(digits) && luhnValid(digits);
}

/** IBAN lengths by country (ISO 13616 registry, the common ones). */
// biome-ignore format: a table
const ibanLengths: Record<string, number> = {
  AD: 24, AE: 23, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22,
  GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31,
  MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SE: 24,
  SI: 19, SK: 24, SM: 27, TN: 24, TR: 26, UA: 29, VG: 24, XK: 20,
};

/** ISO 7064 mod 97-10 over an IBAN without spaces. */
export function ibanValid(raw: string): boolean {
  const value = raw.replace(/ /g, "");
  if (ibanLengths[value.slice(0, 2)] !== value.length) return false;
  const rearranged = value.slice(4) + value.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const part = code >= 65 ? String(code - 55) : ch;
    for (const digit of part) remainder = (remainder * 10 + digit.charCodeAt(0) - 48) % 97;
  }
  return remainder === 1;
}

const ssnContext = /\b(?:ssn|social security|soc\.? sec\.?|ss#|tax id|itin)\b[^\n]{0,24}$/i;

function acceptSsn(value: string, text: string, start: number): boolean {
  const digits = value.replace(/[- ]/g, "");
  const area = Number(digits.slice(0, 3));
  if (area === 0 || area === 666 || area >= 900) return false;
  if (digits.slice(3, 5) === "00" || digits.slice(5) === "0000") return false;
  // Nine bare digits are an SSN only when the text says so just before.
  if (!/[- ]/.test(value)) return ssnContext.test(text.slice(Math.max(0, start - 40), start));
  return true;
}

const phoneContext =
  /\b(?:call|phone|tel|mobile|cell|text me|whatsapp|fax|ring|contact|number|reach)\b[^\n]{0,24}$/i;
const datePattern =
  /^(?:(?:19|20)\d\d[ .\-/](?:0?[1-9]|1[0-2])[ .\-/](?:0?[1-9]|[12]\d|3[01])|(?:0?[1-9]|[12]\d|3[01])[ .\-/](?:0?[1-9]|1[0-2])[ .\-/](?:19|20)\d\d|(?:0?[1-9]|1[0-2])[ .\-/](?:0?[1-9]|[12]\d|3[01])[ .\-/](?:19|20)\d\d)$/;
const nanp = /^(?:\+?1[ .-]?)?(?:\([2-9]\d\d\)|[2-9]\d\d)[ .-]?[2-9]\d\d[ .-]?\d{4}$/;

function acceptPhone(value: string, text: string, start: number): boolean {
  const digits = value.replace(/\D/g, "");
  if (digits.length < 8 || digits.length > 15) return false;
  if (datePattern.test(value)) return false;
  if (/^[\d.]+$/.test(value) && value.split(".").length > 2 && !nanp.test(value)) return false;
  if (nanp.test(value)) return true;
  if (value.startsWith("+")) return digits.length >= 9;
  // A national number: a trunk 0 and 10-11 digits with separators, or any shape after a phone word.
  const grouped = /[ .\-()]/.test(value);
  if (grouped && value.startsWith("0") && (digits.length === 10 || digits.length === 11)) return true;
  return phoneContext.test(text.slice(Math.max(0, start - 40), start)) && digits.length >= 9;
}

/** A textual IPv6 address (RFC 4291 forms, without an embedded IPv4 tail). */
export function ipv6Valid(value: string): boolean {
  const halves = value.split("::");
  if (halves.length > 2) return false;
  const groups = (part: string | undefined) => (part ? part.split(":") : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const all = [...head, ...tail];
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  if (halves.length === 2) return all.length <= 7 && (all.length >= 1 || value === "::");
  // Without "::", eight groups; refuse clock times and MAC-like pairs by that rule alone.
  return all.length === 8;
}

const versionContext =
  /\b(?:v|version|ver\.?|release|build|firmware|rev\.?|sdk|api|python|node|chrome|release)\s*$/i;

function acceptIpv4(value: string, text: string, start: number): boolean {
  if (versionContext.test(text.slice(Math.max(0, start - 16), start))) return false;
  // "0.0.0.0"-like or "1.2.3.4"-shaped small numbers are too often section numbers: require a
  // first octet > 0 and at least one octet with two digits.
  const octets = value.split(".");
  return octets[0] !== "0" && octets.some((o) => o.length >= 2);
}

const detectors: Detector[] = [
  { kind: "secret", pattern: secret },
  { kind: "email", pattern: email, needs: "@" },
  { kind: "iban", pattern: iban, accept: ibanValid },
  { kind: "card", pattern: card, accept: acceptCard },
  { kind: "ssn", pattern: ssn, accept: acceptSsn },
  {
    kind: "ip",
    pattern: ipv6,
    needs: ":",
    accept: (v) => ipv6Valid(v) && v.includes(":") && /[0-9A-Fa-f]/.test(v),
  },
  { kind: "ip", pattern: ipv4, needs: ".", accept: acceptIpv4 },
  { kind: "phone", pattern: phone, accept: acceptPhone },
];

/**
 * Every PII match in `text` for the kinds asked (all by default), sorted by start, without overlaps:
 * an earlier detector in the priority order (secret, email, iban, card, ssn, ip, phone) keeps its span.
 */
export function detectPii(text: string, kinds?: ReadonlySet<PiiKind>): PiiMatch[] {
  // Every kind but secrets and e-mail addresses needs a digit.
  const digits = /\d/.test(text);
  const found: PiiMatch[] = [];
  for (const detector of detectors) {
    if (kinds && !kinds.has(detector.kind)) continue;
    if (detector.needs && !text.includes(detector.needs)) continue;
    if (!digits && detector.kind !== "secret" && detector.kind !== "email") continue;
    detector.pattern.lastIndex = 0;
    for (const m of text.matchAll(detector.pattern)) {
      const start = m.index;
      const value = m[0];
      const end = start + value.length;
      if (found.some((f) => start < f.end && end > f.start)) continue;
      if (detector.accept && !detector.accept(value, text, start)) continue;
      found.push({ kind: detector.kind, start, end });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/** The longest span a match usually has: how much streamed output is held back before it is released. */
export const streamHoldbackChars = 64;
