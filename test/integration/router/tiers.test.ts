import { describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import { chatTiers } from "../../../workers/registry/types.ts";
import { chooseTierByTask } from "../../../workers/router/policy.ts";
import { context, localTable, testRouter } from "./harness.ts";

const prompts = [
  "Classify the sentiment of this review as positive or negative: I loved it",
  "Extract every date from this text: we met on 3 May and again on 4 June",
  "Write a short poem about the sea",
];
const ask = (content: string): ChatCompletionRequest => ({
  model: "auto",
  max_tokens: 2,
  temperature: 0,
  messages: [{ role: "user", content }],
});

describe("tier choice with the small model classifying (real model server)", () => {
  it("routes to the cheapest tier for the classified task, and escalates one tier under the confidence threshold", async () => {
    const table = localTable();
    const order = chatTiers(table).map((t) => t.name);
    const confident = testRouter(table, { confidenceThreshold: 0 });
    const doubtful = testRouter(table, { confidenceThreshold: 1 });
    const tasks = new Set<string>();
    for (const prompt of prompts) {
      const plain = await confident.complete(ask(prompt), context());
      const classification = plain.decision.classification;
      if (!classification) throw new Error("auto request without a classification");
      expect(["model+heuristic", "model", "heuristic"]).toContain(classification.decidedBy);
      tasks.add(classification.task);
      const cheapest = chooseTierByTask(table, classification, 0)?.tier.name;
      expect(plain.decision).toMatchObject({ tier: cheapest, escalated: false });
      expect(plain.served.tier).toBe(cheapest);

      const escalated = await doubtful.complete(ask(prompt), context());
      const again = escalated.decision.classification;
      expect(again?.task).toBe(classification.task); // temperature 0: the same label
      const from = order.indexOf(cheapest ?? "");
      const expected = order[Math.min(from + 1, order.length - 1)];
      expect(escalated.decision.tier).toBe(expected);
      expect(escalated.decision.escalated).toBe(from + 1 < order.length);
      expect(escalated.served.tier).toBe(expected);
    }
    // The prompts cover more than one task, so more than one tier was chosen.
    expect(tasks.size).toBeGreaterThan(1);
  });

  it("honours explicit tiers and concrete models, and 404s an unknown model", async () => {
    const router = testRouter(localTable());
    const byTier = await router.complete({ ...ask("hi"), model: "large" }, context());
    expect(byTier.decision).toMatchObject({ mode: "tier", tier: "large" });
    const byModel = await router.complete({ ...ask("hi"), model: "tiergate-small" }, context());
    expect(byModel.decision).toMatchObject({ mode: "model", tier: "small" });
    await expect(router.complete({ ...ask("hi"), model: "gpt-9" }, context())).rejects.toMatchObject({
      code: "MODEL_NOT_FOUND",
      status: 404,
    });
  });

  it("falls back to the heuristic when the small tier cannot classify", async () => {
    const table = localTable();
    const small = table.tiers.find((t) => t.name === "small");
    if (!small) throw new Error("no small tier");
    small.endpoints = [
      { ...(small.endpoints[0] as (typeof small.endpoints)[number]), baseURL: "http://127.0.0.1:9/v1" },
    ];
    const result = await testRouter(table).complete(ask(prompts[2] as string), context());
    expect(result.decision.classification).toMatchObject({
      decidedBy: "heuristic",
      note: "classifier_failed",
      task: "generate",
    });
    expect(result.served.tier).toBe("large");
  });
});
