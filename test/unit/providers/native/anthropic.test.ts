import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anthropicChat } from "../../../../workers/providers/anthropic/chat.ts";
import { anthropicChatStream } from "../../../../workers/providers/anthropic/stream.ts";
import { ProviderError } from "../../../../workers/providers/openai-compatible/errors.ts";
import { startAnthropicServer } from "../../../stack/conformance/anthropic.ts";
import type { ConformanceServer } from "../../../stack/conformance/server.ts";
import { drain, hello, nativeEndpoint, signal, toolFollowUp, withTools } from "./helpers.ts";

const apiKey = "sk-ant-test";
let server: ConformanceServer;
const endpoint = () =>
  nativeEndpoint({ provider: "anthropic", baseURL: server.url, apiKey, model: "claude-test" });
const sdk = () => new Anthropic({ apiKey, baseURL: server.url, maxRetries: 0 });

beforeAll(async () => {
  server = await startAnthropicServer(apiKey);
});
afterAll(() => server?.stop());

describe("the Anthropic conformance server matches the official SDK", () => {
  it("answers messages.create and a stream's finalMessage", async () => {
    const message = await sdk().messages.create({
      model: "claude-test",
      max_tokens: 20,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(message.content[0]).toMatchObject({ type: "text", text: "Echo: hi" });
    expect(message.stop_reason).toBe("end_turn");
    const stream = sdk().messages.stream({
      model: "claude-test",
      max_tokens: 20,
      messages: [{ role: "user", content: "one two" }],
    });
    const texts: string[] = [];
    stream.on("text", (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.join("")).toBe("Echo: one two");
    expect(final.usage.output_tokens).toBe(3);
  });

  it("streams tool use the SDK assembles into input", async () => {
    const tools = [{ name: "get_weather", input_schema: { type: "object" as const, properties: {} } }];
    const final = await sdk()
      .messages.stream({
        model: "claude-test",
        max_tokens: 20,
        tools,
        messages: [{ role: "user", content: "Paris" }],
      })
      .finalMessage();
    expect(final.content[0]).toMatchObject({
      type: "tool_use",
      name: "get_weather",
      input: { query: "Paris" },
    });
  });

  it("rejects what the API rejects, in the documented error shape", async () => {
    const error = await sdk()
      .messages.create({ model: "claude-test", max_tokens: 0, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error" },
    });
    const wrongKey = await new Anthropic({ apiKey: "bad", baseURL: server.url, maxRetries: 0 }).messages
      .create({ model: "claude-test", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(wrongKey).toBeInstanceOf(Anthropic.AuthenticationError);
    server.fail({ kind: "status", status: 529 });
    const overloaded = await sdk()
      .messages.create({ model: "claude-test", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(overloaded).toMatchObject({ status: 529, error: { error: { type: "overloaded_error" } } });
  });
});

describe("the Anthropic adapter", () => {
  it("translates a completion: system apart, text, usage, request headers", async () => {
    const completion = await anthropicChat({ endpoint: endpoint(), request: hello, signal: signal() });
    expect(completion.choices[0]).toMatchObject({
      message: { role: "assistant", content: "Echo: hello there" },
      finish_reason: "stop",
    });
    expect(completion.usage.completion_tokens).toBe(3);
    expect(completion.usage.total_tokens).toBe(completion.usage.prompt_tokens + 3);
    const sent = server.seen.at(-1);
    expect(sent?.headers).toMatchObject({ "x-api-key": apiKey, "anthropic-version": "2023-06-01" });
    expect(JSON.parse(sent?.body ?? "{}")).toMatchObject({
      system: "Be brief.",
      max_tokens: 50,
      messages: [{ role: "user" }],
    });
  });

  it("streams text deltas, the finish reason and usage", async () => {
    const out = await drain(anthropicChatStream({ endpoint: endpoint(), request: hello, signal: signal() }));
    expect(out.role).toBe("assistant");
    expect(out.text).toBe("Echo: hello there");
    expect(out.finish).toBe("stop");
    expect(out.usage?.completion_tokens).toBe(3);
  });

  it("with anthropic-version 2026-10-21 drops the sampling parameters that version rejects", async () => {
    const request = { ...hello, temperature: 0.2, top_p: 0.9 };
    const current = { ...endpoint(), options: { apiVersion: "2026-10-21" } };
    const completion = await anthropicChat({ endpoint: current, request, signal: signal() });
    expect(completion.choices[0]?.message.content).toBe("Echo: hello there");
    expect(JSON.parse(server.seen.at(-1)?.body ?? "{}")).not.toHaveProperty("temperature");
    const direct = await fetch(`${server.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": apiKey, "anthropic-version": "2026-10-21", "content-type": "application/json" },
      body: JSON.stringify({
        model: "m",
        max_tokens: 5,
        temperature: 0.2,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    expect(direct.status).toBe(400);
  });

  it("round-trips a tool call, streamed and not, and sends the result back as tool_result", async () => {
    const completion = await anthropicChat({ endpoint: endpoint(), request: withTools, signal: signal() });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.function).toEqual({
      name: "get_weather",
      arguments: JSON.stringify({ query: "weather in Paris" }),
    });
    const streamed = await drain(
      anthropicChatStream({ endpoint: endpoint(), request: withTools, signal: signal() }),
    );
    expect(streamed.finish).toBe("tool_calls");
    expect(JSON.parse(streamed.calls[0]?.arguments ?? "")).toEqual({ query: "weather in Paris" });
    const after = await anthropicChat({
      endpoint: endpoint(),
      request: toolFollowUp(call?.id ?? "", call?.function.arguments ?? ""),
      signal: signal(),
    });
    expect(after.choices[0]?.message.content).toBe("Tool said: sunny");
  });

  it("maps 429 and 529 (and an overloaded error event mid-stream) to retryable, 400 and 401 not", async () => {
    for (const status of [429, 529]) {
      server.fail({ kind: "status", status });
      const error = await anthropicChat({ endpoint: endpoint(), request: hello, signal: signal() }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).retryable).toBe(true);
      expect((error as ProviderError).status).toBe(status);
    }
    server.fail({ kind: "mid-stream", status: 529 });
    const midStream = await drain(
      anthropicChatStream({ endpoint: endpoint(), request: hello, signal: signal() }),
    ).catch((e: unknown) => e);
    expect(midStream).toMatchObject({ failure: "server", retryable: true });
    server.fail({ kind: "cut" });
    const cut = await drain(
      anthropicChatStream({ endpoint: endpoint(), request: hello, signal: signal() }),
    ).catch((e: unknown) => e);
    expect(cut).toMatchObject({ retryable: true });
    const rejected = await anthropicChat({
      endpoint: endpoint(),
      request: { ...hello, logprobs: true },
      signal: signal(),
    }).catch((e: unknown) => e);
    expect(rejected).toMatchObject({ failure: "rejected", retryable: false });
    expect(String((rejected as Error).message)).toContain("logprobs");
    const badKey = await anthropicChat({
      endpoint: { ...endpoint(), apiKey: "wrong" },
      request: hello,
      signal: signal(),
    }).catch((e: unknown) => e);
    expect(badKey).toMatchObject({ failure: "misconfigured", status: 401 });
  });
});
