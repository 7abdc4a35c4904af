import { describe, expect, it } from "vitest";
import { defaultTiers, type RoutingTable } from "../../../workers/registry/types.ts";
import type { Classification } from "../../../workers/router/classifier.ts";
import { chooseTierByTask, fallbackChain, formatDecision } from "../../../workers/router/policy.ts";

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
const sure = (task: Classification["task"]): Classification => ({
  task,
  difficulty: "easy",
  confidence: 0.9,
  decidedBy: "model+heuristic",
});

describe("tier policy", () => {
  it("routes each task to the cheapest tier that handles it", () => {
    expect(chooseTierByTask(table, sure("classify"), 0.6)?.tier.name).toBe("small");
    expect(chooseTierByTask(table, sure("extract"), 0.6)?.tier.name).toBe("medium");
    expect(chooseTierByTask(table, sure("chat"), 0.6)?.tier.name).toBe("medium");
    expect(chooseTierByTask(table, sure("generate"), 0.6)?.tier.name).toBe("large");
  });

  it("escalates one tier when confidence is under the threshold, never past the top", () => {
    const unsure = { ...sure("classify"), confidence: 0.5 };
    expect(chooseTierByTask(table, unsure, 0.6)).toMatchObject({ escalated: true, tier: { name: "medium" } });
    expect(chooseTierByTask(table, { ...sure("extract"), confidence: 0.5 }, 0.6)?.tier.name).toBe("large");
    expect(chooseTierByTask(table, { ...sure("generate"), confidence: 0.1 }, 0.6)).toMatchObject({
      escalated: false,
      tier: { name: "large" },
    });
  });

  it("falls back only to more expensive tiers that can do the task", () => {
    const small = table.tiers.find((t) => t.name === "small");
    if (!small) throw new Error("no small");
    expect(fallbackChain(table, small, "classify").map((t) => t.name)).toEqual(["small", "medium", "large"]);
    expect(fallbackChain(table, small, "generate").map((t) => t.name)).toEqual(["small", "large"]);
  });

  it("formats the decision compactly for the header", () => {
    const header = formatDecision(
      {
        mode: "auto",
        requested: "auto",
        tier: "medium",
        classification: { ...sure("classify"), confidence: 0.5 },
        escalated: true,
        reasons: [],
      },
      "large",
    );
    expect(header).toBe(
      "auto;task=classify;difficulty=easy;conf=0.50;by=model+heuristic;tier=medium;escalated;served=large",
    );
  });
});
