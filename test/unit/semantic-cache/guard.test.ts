import { describe, expect, it } from "vitest";
import { nearMissReason, swappedWords } from "../../../workers/semantic-cache/guard.ts";

describe("near-miss guard", () => {
  it("lets paraphrases through", () => {
    expect(
      nearMissReason(
        "How much does the Pro plan cost per month?",
        "What is the monthly price of the Pro plan?",
      ),
    ).toBeNull();
    expect(
      nearMissReason("How do I reverse a list in Python?", "What's the way to reverse a Python list?"),
    ).toBeNull();
    expect(nearMissReason("Why is the sky blue?", "What makes the sky appear blue?")).toBeNull();
  });

  it("stops single-letter identifiers that differ", () => {
    expect(nearMissReason("What is the price of plan A?", "What is the price of plan B?")).toBe("token:a");
  });

  it("stops numbers that differ", () => {
    expect(nearMissReason("What is 15 percent of 80?", "What is 20 percent of 80?")).toMatch(
      /^token:(15|20)$/,
    );
    expect(
      nearMissReason("Who won the World Cup in 2018?", "Which country won the 2018 World Cup?"),
    ).toBeNull();
  });

  it("stops names that differ and ignores sentence-initial capitals", () => {
    expect(nearMissReason("What is the capital of Australia?", "What is the capital of Austria?")).toMatch(
      /^token:/,
    );
    expect(
      nearMissReason("Explain how compound interest works.", "How does compound interest work? Explain."),
    ).toBeNull();
  });

  it("stops a negation on one side only", () => {
    expect(nearMissReason("Why was I charged this month?", "Why wasn't I charged this month?")).toBe(
      "negation",
    );
    expect(nearMissReason("Is a verbal contract binding?", "Is a verbal contract not binding?")).toBe(
      "negation",
    );
    expect(nearMissReason("Why isn't my app loading?", "Why does my app not load?")).toBeNull();
  });

  it("stops quoted strings that differ", () => {
    expect(
      nearMissReason('Translate "good morning" into French.', 'Translate "good night" into French.'),
    ).toMatch(/^token:/);
  });

  it("stops opposed words", () => {
    expect(nearMissReason("Which ocean is the largest?", "Which ocean is the smallest?")).toMatch(
      /^opposed:/,
    );
    expect(nearMissReason("How do I enable dark mode?", "How do I disable dark mode?")).toMatch(/^opposed:/);
    expect(nearMissReason("How much is it per month?", "How much is it per year?")).toMatch(/^opposed:/);
    expect(nearMissReason("How much is it per month?", "What is the monthly cost?")).toBeNull();
  });

  it("stops reversed directions", () => {
    expect(
      nearMissReason(
        "How do I convert a fraction to a percentage?",
        "How do I convert a percentage to a fraction?",
      ),
    ).toBe("direction");
    expect(
      nearMissReason(
        "Do I need a visa to visit Japan from the US?",
        "Do I need a visa to visit the US from Japan?",
      ),
    ).toBe("direction");
  });

  it("finds small word swaps between otherwise equal prompts", () => {
    expect(swappedWords("How do I check if a key exists?", "How do I check if a value exists?")).toEqual({
      a: ["key"],
      b: ["value"],
    });
    expect(swappedWords("Why is the sky blue?", "Why is the sky blue?")).toBeNull();
    expect(swappedWords("Why is the sky blue?", "Tell me about cooking pasta al dente today")).toBeNull();
  });
});
