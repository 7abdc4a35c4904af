import { describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import {
  classifierPrompt,
  combine,
  heuristicClassify,
  parseLabel,
} from "../../../workers/router/classifier.ts";

const ask = (content: string): ChatCompletionRequest => ({
  model: "auto",
  messages: [{ role: "user", content }],
});

describe("classifier", () => {
  it("parses only a single label word", () => {
    expect(parseLabel(" classify\n")).toBe("classify");
    expect(parseLabel("Extract.")).toBe("extract");
    expect(parseLabel(" generate\nRequest")).toBe("generate");
    expect(parseLabel("positive")).toBeUndefined();
    expect(parseLabel("")).toBeUndefined();
    expect(parseLabel("classification")).toBeUndefined();
  });

  it("the heuristic recognises each task type", () => {
    expect(heuristicClassify(ask("Classify the sentiment of: I love it")).task).toBe("classify");
    expect(heuristicClassify(ask("Extract every date from this: 3 May, 4 June")).task).toBe("extract");
    expect(heuristicClassify(ask("Write a poem about the sea")).task).toBe("generate");
    expect(heuristicClassify(ask("hello!")).task).toBe("chat");
    expect(heuristicClassify(ask("Explain step by step how TCP works")).difficulty).toBe("hard");
  });

  it("agreement raises confidence, disagreement lowers it, no label leaves the heuristic deciding", () => {
    const heuristic = heuristicClassify(ask("Classify the sentiment of: I love it"));
    expect(combine(heuristic, "classify")).toMatchObject({ task: "classify", decidedBy: "model+heuristic" });
    expect(combine(heuristic, "classify").confidence).toBeGreaterThanOrEqual(0.9);
    expect(combine(heuristic, "generate")).toMatchObject({
      task: "classify",
      confidence: 0.5,
      decidedBy: "heuristic",
    });
    const unsure = heuristicClassify(ask("something vague"));
    expect(combine(unsure, "extract")).toMatchObject({
      task: "extract",
      decidedBy: "model",
      confidence: 0.5,
    });
    expect(combine(heuristic, undefined, "unparsable")).toMatchObject({
      decidedBy: "heuristic",
      note: "unparsable",
    });
  });

  it("the prompt ends where one label word must follow", () => {
    expect(classifierPrompt(ask("Is this spam?"))).toMatch(/Request: Is this spam\?\nLabel:$/);
  });
});
