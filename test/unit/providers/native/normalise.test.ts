import { describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../../../shared/schemas/chat.ts";
import { toMessagesBody } from "../../../../workers/providers/anthropic/request.ts";
import { toConverseBody } from "../../../../workers/providers/bedrock/request.ts";
import { toGenerateContentBody } from "../../../../workers/providers/gemini/request.ts";
import { geminiChatStream } from "../../../../workers/providers/gemini/stream.ts";
import { ProviderError } from "../../../../workers/providers/openai-compatible/errors.ts";
import { drain, hello, nativeEndpoint, signal, weatherTool, withTools } from "./helpers.ts";

const builders = {
  anthropic: (r: ChatCompletionRequest) =>
    toMessagesBody(r, "claude-test", { stream: false, apiVersion: "2023-06-01" }),
  gemini: (r: ChatCompletionRequest) => toGenerateContentBody(r),
  bedrock: (r: ChatCompletionRequest) => toConverseBody(r),
};
const providers = Object.keys(builders) as (keyof typeof builders)[];

/** The error a builder throws, or a failure naming what it built instead. */
function rejection(provider: keyof typeof builders, request: ChatCompletionRequest): unknown {
  try {
    return { built: builders[provider](request) };
  } catch (error: unknown) {
    return error;
  }
}

const audio: ChatCompletionRequest = {
  ...hello,
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "what is said here?" },
        { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
      ],
    },
  ],
};
const file: ChatCompletionRequest = {
  ...hello,
  messages: [{ role: "user", content: [{ type: "file", file: { file_id: "file-abc" } }] }],
};
const customTool: ChatCompletionRequest = {
  ...withTools,
  tools: [weatherTool, { type: "custom", custom: { name: "run_sql", description: "free-form SQL" } }],
};
const customCall: ChatCompletionRequest = {
  ...withTools,
  messages: [
    { role: "user", content: "count rows" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1", type: "custom", custom: { name: "run_sql", input: "select 1" } }],
    },
    { role: "tool", tool_call_id: "call_1", content: "1" },
  ],
};
const customChoice: ChatCompletionRequest = {
  ...withTools,
  tool_choice: { type: "custom", custom: { name: "run_sql" } },
};
const allowedTools: ChatCompletionRequest = {
  ...withTools,
  tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [{ type: "function" }] } },
};

describe.each(providers)("the %s request builder over the widened chat schema", (provider) => {
  it.each([
    ["an input_audio part", audio, "messages[].content[].input_audio"],
    ["a file part", file, "messages[].content[].file"],
    ["a custom tool", customTool, "tools[].custom"],
    ["a custom tool call", customCall, "messages[].tool_calls[].custom"],
    ["a custom tool_choice", customChoice, "tool_choice.custom"],
    ["an allowed_tools tool_choice", allowedTools, "tool_choice.allowed_tools"],
  ])("rejects %s with a 400 naming the field and provider", (_, request, field) => {
    const error = rejection(provider, request);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ failure: "rejected", retryable: false, status: 400 });
    expect((error as ProviderError).message).toContain(`${provider} does not support '${field}'`);
  });

  it("sends an assistant refusal part as text and reads null sampling fields as absent", () => {
    const request: ChatCompletionRequest = {
      ...hello,
      temperature: null,
      top_p: null,
      max_tokens: null,
      max_completion_tokens: null,
      n: null,
      seed: null,
      messages: [
        { role: "user", content: "hello" },
        { role: "assistant", content: [{ type: "refusal", refusal: "I cannot help with that." }] },
        { role: "user", content: "why?" },
      ],
    };
    const body = JSON.stringify(builders[provider](request));
    expect(body).toContain("I cannot help with that.");
    expect(body).not.toContain("null");
    expect(body).not.toMatch(/temperature|top_?[pP]|seed|candidateCount/);
  });
});

describe("null numeric fields on the native adapters", () => {
  it("anthropic uses its default max_tokens when both limits are null", () => {
    const body = builders.anthropic({ ...hello, max_tokens: null, max_completion_tokens: null });
    expect(body.max_tokens).toBe(4096);
  });

  it("gemini streaming treats n: null as one candidate and still rejects n > 1", async () => {
    const endpoint = nativeEndpoint({
      provider: "gemini",
      baseURL: "http://127.0.0.1:9",
      apiKey: "k",
      model: "m",
    });
    const two = await drain(
      geminiChatStream({ endpoint, request: { ...hello, n: 2 }, signal: signal() }),
    ).catch((e: unknown) => e);
    expect(two).toMatchObject({ failure: "rejected", status: 400 });
    const none = await drain(
      geminiChatStream({
        endpoint,
        request: { ...hello, n: null, messages: audio.messages },
        signal: signal(),
      }),
    ).catch((e: unknown) => e);
    // n: null passes the streaming check; the request builder is reached and names the audio part.
    expect((none as ProviderError).message).toContain(
      "gemini does not support 'messages[].content[].input_audio'",
    );
  });
});
