import { describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import { canonicalPrompt, semanticPrompt } from "../../../workers/semantic-cache/canonical.ts";

const system = { role: "system", content: "You are terse." } as const;
const question = { role: "user", content: "  What is   the capital of France? " } as const;
const base: ChatCompletionRequest = { model: "auto", temperature: 0, messages: [system, question] };

async function partitionOf(request: ChatCompletionRequest, allowed: string[] | null = null): Promise<string> {
  const key = await semanticPrompt(request, allowed);
  if ("ineligible" in key) throw new Error(key.ineligible);
  return key.partition;
}

describe("semantic prompt", () => {
  it("canonicalises the last user turn", async () => {
    expect(canonicalPrompt("  a\n\tb  ")).toBe("a b");
    const key = await semanticPrompt(base);
    expect(key).toMatchObject({ prompt: "What is the capital of France?" });
  });

  it("puts the system prompt, tools, model and sampling parameters into the partition", async () => {
    const p = await partitionOf(base);
    expect(
      await partitionOf({ ...base, messages: [{ role: "user", content: "What is the capital of France?" }] }),
    ).not.toBe(p);
    expect(
      await partitionOf({
        ...base,
        messages: [{ role: "system", content: "You are verbose." }, question],
      }),
    ).not.toBe(p);
    expect(await partitionOf({ ...base, temperature: 0.5 })).not.toBe(p);
    expect(await partitionOf({ ...base, model: "tiergate-small" })).not.toBe(p);
    expect(await partitionOf({ ...base, max_tokens: 20 })).not.toBe(p);
    expect(
      await partitionOf({
        ...base,
        tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
      }),
    ).not.toBe(p);
    expect(await partitionOf(base, ["tiergate-small"])).not.toBe(p);
    // Every field that changes the answer for the exact cache does for the semantic one too.
    expect(await partitionOf({ ...base, reasoning_effort: "high" })).not.toBe(p);
    expect(await partitionOf({ ...base, logprobs: true })).not.toBe(p);
    expect(await partitionOf({ ...base, parallel_tool_calls: false })).not.toBe(p);
    // The prompt's wording is not part of it (that is what the vectors compare).
    expect(
      await partitionOf({
        ...base,
        messages: [system, { role: "user", content: "France's capital?" }],
      }),
    ).toBe(p);
  });

  it("refuses conversations with tool calls or results, non-text parts, RAG and no final user turn", async () => {
    const toolHistory: ChatCompletionRequest = {
      ...base,
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "w", arguments: "{}" } }],
        },
        { role: "tool", content: "sunny", tool_call_id: "c1" },
        { role: "user", content: "and tomorrow?" },
      ],
    };
    expect(await semanticPrompt(toolHistory)).toEqual({ ineligible: "tool_history" });
    const image: ChatCompletionRequest = {
      ...base,
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }],
    };
    expect(await semanticPrompt(image)).toEqual({ ineligible: "not_text" });
    expect(await semanticPrompt({ ...base, messages: [{ role: "assistant", content: "hi" }] })).toEqual({
      ineligible: "no_user_turn",
    });
    expect(await semanticPrompt({ ...base, rag: { collection: "docs" } } as ChatCompletionRequest)).toEqual({
      ineligible: "rag",
    });
  });
});
