import { describe, expect, it } from "vitest";
import { verifyAnswer } from "../../../workers/retrieval/answer-gate.ts";
import {
  extractNames,
  extractQuantities,
  normaliseText,
  tokenise,
} from "../../../workers/retrieval/claims.ts";
import { abstainSentinel, isSentinelReply } from "../../../workers/retrieval/prompt.ts";

const tram =
  "The Brevik Tramway\n\nThe Brevik Tramway is a light-rail line in the harbour town of Brevik. It opened on 14 May 1962 " +
  "and runs 11.4 kilometres from Nordkai to Helleberg. The line has 19 stops. Its depot at Solvang houses the fleet " +
  "of eight Kestrel trams, which were built by the Ostmark Works. A single trip takes one week to plan.";
const kettle =
  "Skarv K3 electric kettle\n\nThe Skarv K3 is an electric kettle made by Fjordline Appliances. It holds 1.7 litres " +
  "of water and draws 2,200 watts. It costs 49 euros. The office opens at 9:30 am.";

const gate = (question: string, answer: string, passages = [tram, kettle]) =>
  verifyAnswer({ question, answer, passages }, { minCoverage: 0.75 });

describe("claim normalisation", () => {
  it("reads number words, thousands separators and multipliers as values", () => {
    const values = (text: string) => extractQuantities(tokenise(normaliseText(text))).map((q) => q.value);
    expect(values("2,200 watts and 12 000 people")).toEqual([2200, 12000]);
    expect(values("two hundred and forty metres")).toEqual([240]);
    expect(values("1.1 billion dollars")).toEqual([1_100_000_000]);
    expect(values("twenty-five days")).toEqual([25]);
  });

  it("maps unit spellings and currency signs to one symbol", () => {
    const units = (text: string) => extractQuantities(tokenise(normaliseText(text))).map((q) => q.unit);
    expect(units("11.4 km, 11.4 kilometres, 11.4 kilometers")).toEqual(["km", "km", "km"]);
    expect(units("$5 and 5 dollars and 49 euros and 3 €")).toEqual(["usd", "usd", "eur", "eur"]);
    expect(units("a 2-year warranty")).toEqual(["year"]);
  });

  it("writes times of day as 24-hour clock tokens", () => {
    expect(tokenise(normaliseText("opens at 9:30 am, closes 5 pm"))).toEqual(
      expect.arrayContaining(["9:30", "17:00"]),
    );
  });

  it("finds proper names and product codes, not sentence starts", () => {
    expect(extractNames("The trams were built by Ostmark Works. Its code is R290.")).toEqual([
      "ostmark",
      "works",
      "r290",
    ]);
  });
});

describe("answer gate: claims must occur in the passages", () => {
  it("passes an answer whose number, unit and name are in the passage, in another spelling", () => {
    expect(
      gate("How long is the Brevik Tramway line?", "The Brevik Tramway is 11.4 km long [1]."),
    ).toMatchObject({ supported: true });
    expect(gate("What is the power of the Skarv K3 kettle?", "It draws 2200 W.")).toMatchObject({
      supported: true,
    });
    expect(gate("How many trams does the Brevik Tramway have?", "It has 8 Kestrel trams.")).toMatchObject({
      supported: true,
    });
  });

  it("withholds numbers that are not in the passages, naming them", () => {
    const verdict = gate("How many trams does the Brevik Tramway have?", "The Brevik Tramway has 34 trams.");
    expect(verdict).toMatchObject({ supported: false, reason: "unsupported_claims" });
    expect(verdict.unsupported).toEqual(["34 trams"]);
    expect(gate("How long does planning a trip take?", "It takes 18 days.")).toMatchObject({
      supported: false,
      reason: "unsupported_claims",
    });
  });

  it("withholds a number given with the wrong unit or counted noun", () => {
    expect(gate("How long is the Brevik Tramway?", "It is 11.4 miles long.").supported).toBe(false);
    expect(gate("How many stops does the Brevik Tramway have?", "It has 19 trams.").supported).toBe(false);
  });

  it("withholds invented money, dates, times, names and quotes", () => {
    expect(gate("How much does the Skarv K3 cost?", "The Skarv K3 costs $49.").unsupported).toEqual([
      "49 usd",
    ]);
    expect(gate("When did the Brevik Tramway open?", "It opened on 14 June 1962.").unsupported).toEqual([
      "june",
    ]);
    expect(gate("When does the office open?", "At 10:00 am.").unsupported).toContain("10:00");
    expect(gate("Who built the Kestrel trams?", "They were built by Siemens.").unsupported).toEqual([
      "siemens",
    ]);
    expect(gate("What is the line called?", 'It is called "the blue line".').unsupported).toEqual([
      '"the blue line"',
    ]);
  });
});

describe("answer gate: the answer must answer the question asked", () => {
  it("withholds a price question answered without a price", () => {
    expect(gate("What is the price of the Skarv K3 kettle?", "The Skarv K3 holds 1.7 litres.")).toMatchObject(
      {
        supported: false,
        reason: "answer_type",
      },
    );
    expect(gate("What is the price of the Skarv K3 kettle?", "It costs 49 euros.").supported).toBe(true);
  });

  it("withholds a measure in the wrong dimension (a height for a loudness or a weight)", () => {
    expect(gate("How loud is the Skarv K3 kettle?", "The Skarv K3 holds 1.7 litres.")).toMatchObject({
      supported: false,
      reason: "answer_type",
    });
    expect(gate("How much does the Skarv K3 weigh?", "The Skarv K3 holds 1.7 litres.").reason).toBe(
      "answer_type",
    );
    expect(gate("How long is the Brevik Tramway?", "The line runs 11.4 kilometres.").supported).toBe(true);
  });

  it("withholds an answer drawn from a sentence that lacks the asked attribute", () => {
    const verdict = gate(
      "What is the warranty of the Skarv K3 kettle?",
      "The Skarv K3 is made by Fjordline Appliances.",
    );
    expect(verdict).toMatchObject({ supported: false, reason: "question_terms" });
    expect(verdict.unsupported).toContain("warranty");
  });

  it("withholds a who-question answered without a name", () => {
    expect(gate("Who founded the Brevik Tramway?", "The Brevik Tramway was founded in 1962.")).toMatchObject({
      supported: false,
      reason: "answer_type",
    });
  });
});

describe("answer gate: trimming unsupported trailing clauses", () => {
  it("sends the longest clause prefix that passes every check", () => {
    const verdict = gate(
      "How long is the Brevik Tramway line?",
      "The line runs 11.4 kilometres, which is about 7 miles long.",
    );
    expect(verdict).toMatchObject({ supported: true, answer: "The line runs 11.4 kilometres." });
  });

  it("withholds when no prefix passes, and never reads a number after a colon as a list marker", () => {
    expect(gate("When did the Brevik Tramway open?", "It opened on 14 June 1962, in spring.").supported).toBe(
      false,
    );
    expect(
      gate("How many stops does the Brevik Tramway have?", "The answer is: 3.\n\nIt has 19 stops."),
    ).toMatchObject({
      supported: false,
      unsupported: ["3"],
    });
  });
});

describe("abstain sentinel", () => {
  it("maps the sentinel and plain don't-know replies to an abstention", () => {
    expect(isSentinelReply(abstainSentinel)).toBe(true);
    expect(isSentinelReply("I don’t know.")).toBe(true);
    expect(isSentinelReply("The passages do not mention a warranty.")).toBe(true);
    expect(isSentinelReply("It holds 1.7 litres.")).toBe(false);
    expect(gate("What is the warranty?", `${abstainSentinel}`)).toMatchObject({
      supported: false,
      reason: "sentinel",
    });
  });
});
