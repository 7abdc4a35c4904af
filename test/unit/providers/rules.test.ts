import { describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import { rulesAnswer, rulesChat, rulesChatChunks } from "../../../workers/providers/rules/chat.ts";

const request = (messages: ChatCompletionRequest["messages"]): ChatCompletionRequest => ({
  model: "auto",
  messages,
});

describe("rules provider", () => {
  it("answers known intents with canned text", () => {
    expect(rulesAnswer(request([{ role: "user", content: "Hello there" }])).rule).toBe("canned:greeting");
    expect(rulesAnswer(request([{ role: "user", content: "thanks a lot" }])).rule).toBe("canned:thanks");
  });

  it("answers from given context by extraction", () => {
    const answer = rulesAnswer(
      request([
        {
          role: "system",
          content: "The office opens at 9am. Parking is free on weekends. The cafe closes at 5pm.",
        },
        { role: "user", content: "When does the office open?" },
      ]),
    );
    expect(answer).toEqual({ rule: "extractive", content: "The office opens at 9am." });
    const inline = rulesAnswer(
      request([
        {
          role: "user",
          content: "Is parking free on weekends?\nContext: Parking is free on weekends. Tea costs 2 euros.",
        },
      ]),
    );
    expect(inline.content).toBe("Parking is free on weekends.");
  });

  it("says honestly that it cannot answer otherwise, and streams the same answer", () => {
    const completion = rulesChat(request([{ role: "user", content: "Prove the Riemann hypothesis" }]), "r1");
    expect(completion.rule).toBe("unavailable");
    expect(completion.choices[0]?.message.content).toMatch(/can't answer/);
    const chunks = rulesChatChunks(completion);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(
      completion.choices[0]?.message.content,
    );
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
  });
});
