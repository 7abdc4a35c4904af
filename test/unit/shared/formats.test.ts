import { describe, expect, it } from "vitest";
import { MessagesStreamTranslator } from "../../../shared/formats/anthropic/stream.ts";
import { CompletionAssembler } from "../../../shared/formats/chat/assemble.ts";
import { completionAsChunks } from "../../../shared/formats/chat/replay.ts";
import { ResponsesStreamTranslator } from "../../../shared/formats/responses/stream.ts";
import { translateChatStream } from "../../../shared/formats/translate-stream.ts";

const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "m" };
const chunk = (choice: Record<string, unknown>) => JSON.stringify({ ...base, choices: [choice] });
const toolStream = [
  chunk({ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }),
  chunk({
    index: 0,
    delta: {
      tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "f", arguments: '{"a"' } }],
    },
    finish_reason: null,
  }),
  chunk({
    index: 0,
    delta: { tool_calls: [{ index: 0, function: { arguments: ":1}" } }] },
    finish_reason: null,
  }),
  chunk({
    index: 1,
    delta: { content: "hi" },
    logprobs: { content: [{ token: "hi", logprob: -1 }] },
    finish_reason: null,
  }),
  chunk({ index: 0, delta: {}, finish_reason: "tool_calls" }),
  chunk({ index: 1, delta: {}, finish_reason: "stop" }),
];

function sse(payloads: string[], done = true): ReadableStream<Uint8Array> {
  const text = payloads.map((p) => `data: ${p}\n\n`).join("") + (done ? "data: [DONE]\n\n" : "");
  return new Response(text).body as ReadableStream<Uint8Array>;
}

describe("the chat stream assembler and replay", () => {
  it("rebuilds tool calls, several choices and logprobs, and replays them into the same completion", () => {
    const assembler = new CompletionAssembler();
    const verdicts = toolStream.map((p) => assembler.add(p));
    expect(verdicts[0]).toBe("empty");
    expect(verdicts[1]).toBe("token");
    expect(assembler.completion()).toBeNull();
    assembler.add("[DONE]");
    const completion = assembler.completion();
    expect(completion?.choices[0]?.message.tool_calls).toEqual([
      { id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } },
    ]);
    expect(completion?.choices[1]?.logprobs?.content).toEqual([{ token: "hi", logprob: -1 }]);
    if (!completion) throw new Error("no completion");
    const again = new CompletionAssembler();
    for (const replayed of completionAsChunks(completion, true)) again.add(JSON.stringify(replayed));
    again.add("[DONE]");
    expect(again.completion()).toEqual(completion);
  });
});

describe("stream translation into other APIs", () => {
  it("ends a cut stream with an error event, never a completed response or message_stop", async () => {
    const request = { model: "m", input: "x" };
    const responses = await new Response(
      translateChatStream(sse(toolStream.slice(0, 3), false), new ResponsesStreamTranslator(request)),
    ).text();
    expect(responses).toContain("event: error");
    expect(responses).not.toContain("response.completed");
    const messages = await new Response(
      translateChatStream(sse(toolStream.slice(0, 3), false), new MessagesStreamTranslator("m")),
    ).text();
    expect(messages).toContain("event: error");
    expect(messages).not.toContain("message_stop");
  });

  it("translates an upstream error event mid-stream into an error event", async () => {
    const broken = [
      toolStream[0] ?? "",
      JSON.stringify({ error: { message: "broke", code: "upstream_error" } }),
    ];
    const out = await new Response(
      translateChatStream(sse(broken, false), new MessagesStreamTranslator("m")),
    ).text();
    expect(out).toContain('"message":"broke"');
  });

  it("writes a tool call as an Anthropic tool_use block with input_json_delta", async () => {
    const out = await new Response(
      translateChatStream(sse(toolStream), new MessagesStreamTranslator("m")),
    ).text();
    const types = [...out.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    expect(types).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(out).toContain('"stop_reason":"tool_use"');
  });
});
