import { describe, expect, it } from "vitest";
import { formatSpendReport, parseSpendReport } from "../../../shared/schemas/spend.ts";
import { costUsd, PriceBook } from "../../../workers/spend/prices.ts";
import { countTokens, openAiEncoding } from "../../../workers/spend/tokens.ts";

const day = 86_400_000;
const t0 = Date.UTC(2026, 0, 1);

describe("PriceBook: prices per model version with history", () => {
  const book = new PriceBook([
    { tier: "large", version: "big@1", price: { input: 1, output: 2, cached: 0.5 }, effectiveFrom: t0 },
    { tier: "large", version: "big@1", price: { input: 3, output: 6, cached: 1 }, effectiveFrom: t0 + day },
    { tier: "small", version: "tiny@1", price: { input: 0.05, output: 0.1, cached: 0 }, effectiveFrom: t0 },
  ]);

  it("prices a request at the row effective when it happened, so past requests keep their price", () => {
    expect(book.priceAt("large", "big@1", t0 + day / 2)).toEqual({ input: 1, output: 2, cached: 0.5 });
    expect(book.priceAt("large", "big@1", t0 + day)).toEqual({ input: 3, output: 6, cached: 1 });
    expect(book.priceAt("large", "big@1", t0 - 1)).toBeNull();
    expect(book.priceAt("large", "other@1", t0 + day)).toBeNull();
  });

  it("costs tokens per million, cached prompt tokens at the cached price", () => {
    const price = book.priceAt("large", "big@1", t0) ?? { input: 0, output: 0, cached: 0 };
    expect(
      costUsd(price, { promptTokens: 1_000_000, completionTokens: 1_000_000, cachedTokens: 0 }),
    ).toBeCloseTo(3);
    expect(
      costUsd(price, { promptTokens: 1_000_000, completionTokens: 0, cachedTokens: 500_000 }),
    ).toBeCloseTo(0.75);
    const small = book.priceAt("small", "tiny@1", t0) ?? { input: 9, output: 9, cached: 9 };
    expect(costUsd(small, { promptTokens: 2_000_000, completionTokens: 0, cachedTokens: 0 })).toBeCloseTo(
      0.1,
    );
  });

  it("reserves at the ceiling: the highest current price of each kind", () => {
    const ceiling = book.ceiling();
    expect(ceiling.input).toBe(3);
    expect(ceiling.output).toBe(6);
  });
});

describe("token counting without upstream usage", () => {
  it("uses tiktoken for OpenAI families and labels other families' counts as estimates", async () => {
    expect(openAiEncoding("gpt-4o-mini")).toBe("o200k_base");
    expect(openAiEncoding("gpt-3.5-turbo")).toBe("cl100k_base");
    expect(openAiEncoding("smollm2-135m")).toBeNull();
    const counted = await countTokens("gpt-4o", "Hello, world! Hello, world!");
    expect(counted.source).toBe("tokenizer");
    expect(counted.tokens).toBeGreaterThan(4);
    expect(counted.tokens).toBeLessThan(15);
    expect(await countTokens("smollm2-135m", "x".repeat(40))).toEqual({ tokens: 10, source: "estimate" });
  });
});

describe("spend reports", () => {
  it("round-trips and refuses malformed text", () => {
    expect(parseSpendReport(formatSpendReport({ usd: 0.00012, tokens: 42 }))).toEqual({
      usd: 0.00012,
      tokens: 42,
    });
    expect(parseSpendReport("usd=abc;tokens=1")).toBeNull();
    expect(parseSpendReport(null)).toBeNull();
  });
});
