import { describe, expect, it } from "vitest";
import { defaultTiers, type RoutingTable } from "../../../workers/registry/types.ts";
import { featurize } from "../../../workers/router/difficulty/features.ts";
import { levelFor, scoreRouting } from "../../../workers/router/difficulty/metrics.ts";
import { predictDifficulty } from "../../../workers/router/difficulty/model.ts";
import { bundledRouterModel, learnedClassify } from "../../../workers/router/difficulty/source.ts";
import { chooseTier, formatDecision } from "../../../workers/router/policy.ts";

const table: RoutingTable = {
  source: "env",
  tiers: defaultTiers.map((t) => ({
    ...t,
    budgetMs: 1,
    timeoutMs: 1,
    versionId: t.name,
    version: `${t.name}@1`,
    endpoints: [],
  })),
};
const ask = (content: string) => ({ model: "auto", messages: [{ role: "user" as const, content }] });

describe("difficulty classifier", () => {
  it("predicts success that is monotone in the level, for any text", () => {
    const model = bundledRouterModel();
    for (const text of ["", "hi", "x".repeat(200_000), "Übersetze: guten Morgen", "```\nfn main() {}\n```"]) {
      const { success } = predictDifficulty(model, text);
      expect(success.small).toBeGreaterThanOrEqual(0);
      expect(success.medium).toBeGreaterThanOrEqual(success.small);
      expect(success.large).toBe(1);
    }
  });

  it("hashes only the ends of a long prompt, so its cost is bounded", () => {
    const long = featurize(`${"word ".repeat(100_000)}`, 2048);
    expect(long.size).toBeLessThan(2048 + 20);
  });

  it("sends an easy prompt lower than a hard one", () => {
    const model = bundledRouterModel();
    const easy = learnedClassify(ask("What is the capital of France?"), model);
    const hard = learnedClassify(
      ask(
        "Write a 3,000-word short story with three narrators and a twist ending, then prove that your plot has no contradictions, step by step.",
      ),
      model,
    );
    expect(easy.decidedBy).toBe("learned");
    expect(easy.success?.small ?? 0).toBeGreaterThan(hard.success?.small ?? 1);
    expect(easy.success?.medium ?? 0).toBeGreaterThan(hard.success?.medium ?? 1);
  });
});

describe("difficulty policy", () => {
  const success = { small: 0.4, medium: 0.8, large: 1 };

  it("picks the cheapest tier whose predicted success reaches the target", () => {
    expect(chooseTier(table, success, { target: 0.3 })?.tier.name).toBe("small");
    expect(chooseTier(table, success, { target: 0.75 })?.tier.name).toBe("medium");
    expect(chooseTier(table, success, { target: 0.9 })?.tier.name).toBe("large");
  });

  it("applies the tenant's learned shift within the tiers there are", () => {
    expect(chooseTier(table, success, { target: 0.3, shift: 1 })).toMatchObject({
      tier: { name: "medium" },
      escalated: true,
    });
    expect(chooseTier(table, success, { target: 0.9, shift: 2 })?.tier.name).toBe("large");
    expect(chooseTier(table, success, { target: 0.75, shift: -1 })).toMatchObject({
      tier: { name: "small" },
      escalated: false,
    });
    expect(chooseTier(table, success, { target: 0.3, shift: -1 })?.tier.name).toBe("small");
  });

  it("puts the prediction, target and shift into the header", () => {
    const header = formatDecision(
      {
        mode: "auto",
        requested: "auto",
        tier: "medium",
        classification: {
          task: "generate",
          difficulty: "hard",
          confidence: 0.5,
          decidedBy: "learned",
          category: "code",
          success,
        },
        escalated: true,
        reasons: [],
        target: 0.75,
        shift: 1,
      },
      "medium",
    );
    expect(header).toBe(
      "auto;task=generate;difficulty=hard;conf=0.50;by=learned;class=code;p=0.40/0.80/1.00;target=0.75;feedback=+1;tier=medium;escalated",
    );
  });

  it("scores routing: under, over, cost against always-large", () => {
    const score = scoreRouting([
      { label: "small", routed: "small" },
      { label: "medium", routed: "small" },
      { label: "small", routed: "large" },
      { label: "large", routed: "large" },
    ]);
    expect(score).toMatchObject({ n: 4, accuracy: 0.5, underRouting: 0.25, overRouting: 0.25 });
    expect(score.relativeCost).toBeCloseTo((1 + 1 + 30 + 30) / 120, 6);
    expect(levelFor(success, 0.5)).toBe("medium");
  });
});
