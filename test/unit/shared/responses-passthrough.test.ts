import { describe, expect, it } from "vitest";
import { NativeMemo } from "../../../edge/services/responses-memo.ts";
import { ResponsesStreamWatcher, usageOfResponse } from "../../../shared/formats/responses/passthrough.ts";

const encoder = new TextEncoder();
const event = (type: string, fields: Record<string, unknown> = {}) =>
  encoder.encode(`event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`);

describe("ResponsesStreamWatcher", () => {
  it("commits at the first output event and reads the final usage", () => {
    const watcher = new ResponsesStreamWatcher();
    expect(watcher.push(event("response.created", { response: { status: "in_progress" } }))).toBe("preamble");
    expect(watcher.push(event("response.in_progress"))).toBe("preamble");
    expect(watcher.push(event("response.output_text.delta", { delta: "hey" }))).toBe("output");
    const usage = { input_tokens: 3, output_tokens: 4, input_tokens_details: { cached_tokens: 1 } };
    watcher.push(event("response.completed", { response: { status: "completed", usage } }));
    expect(watcher.terminal).toBe("completed");
    expect(watcher.textChars).toBe(3);
    expect(watcher.usage).toEqual({ inputTokens: 3, outputTokens: 4, cachedTokens: 1 });
  });

  it("reports malformed events and events split across chunks", () => {
    const watcher = new ResponsesStreamWatcher();
    const bytes = event("response.output_text.delta", { delta: "x" });
    expect(watcher.push(bytes.slice(0, 10))).toBe("preamble");
    expect(watcher.push(bytes.slice(10))).toBe("output");
    expect(watcher.push(encoder.encode("data: {not json\n\n"))).toBe("malformed");
    expect(new ResponsesStreamWatcher().push(encoder.encode('data: {"no":"type"}\n\n'))).toBe("malformed");
  });

  it("reads no usage from a response without one", () => {
    expect(usageOfResponse({ object: "response" })).toBeNull();
    expect(usageOfResponse(null)).toBeNull();
  });
});

describe("NativeMemo", () => {
  it("remembers a pair for its lifetime only, per tenant", () => {
    const memo = new NativeMemo(1_000, 10);
    memo.add("t1", "m", 0);
    expect(memo.has("t1", "m", 999)).toBe(true);
    expect(memo.has("t2", "m", 999)).toBe(false);
    expect(memo.has("t1", "m", 1_000)).toBe(false);
  });

  it("drops the oldest pair when full", () => {
    const memo = new NativeMemo(1_000, 2);
    memo.add("t", "a", 0);
    memo.add("t", "b", 0);
    memo.add("t", "c", 0);
    expect(memo.has("t", "a", 1)).toBe(false);
    expect(memo.has("t", "b", 1)).toBe(true);
    expect(memo.has("t", "c", 1)).toBe(true);
  });
});
