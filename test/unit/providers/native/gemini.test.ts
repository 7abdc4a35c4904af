import { ApiError, GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { geminiChat } from "../../../../workers/providers/gemini/chat.ts";
import { geminiChatStream } from "../../../../workers/providers/gemini/stream.ts";
import { ProviderError } from "../../../../workers/providers/openai-compatible/errors.ts";
import { startGeminiServer } from "../../../stack/conformance/gemini.ts";
import type { ConformanceServer } from "../../../stack/conformance/server.ts";
import { drain, hello, nativeEndpoint, signal, toolFollowUp, withTools } from "./helpers.ts";

const apiKey = "gm-test-key";
let server: ConformanceServer;
const endpoint = () =>
  nativeEndpoint({ provider: "gemini", baseURL: server.url, apiKey, model: "gemini-test" });
const sdk = (key = apiKey) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: server.url } });

beforeAll(async () => {
  server = await startGeminiServer(apiKey);
});
afterAll(() => server?.stop());

describe("the Gemini conformance server matches the official SDK", () => {
  it("answers generateContent and generateContentStream", async () => {
    const answer = await sdk().models.generateContent({
      model: "gemini-test",
      contents: "hi",
      config: { systemInstruction: "Be brief.", temperature: 0 },
    });
    expect(answer.text).toBe("Echo: hi");
    expect(answer.usageMetadata?.candidatesTokenCount).toBe(2);
    let streamed = "";
    for await (const chunk of await sdk().models.generateContentStream({
      model: "gemini-test",
      contents: "one two",
    }))
      streamed += chunk.text ?? "";
    expect(streamed).toBe("Echo: one two");
    expect(server.seen.at(-1)?.url).toContain("alt=sse");
  });

  it("returns function calls the SDK exposes", async () => {
    const answer = await sdk().models.generateContent({
      model: "gemini-test",
      contents: "Paris",
      config: {
        tools: [
          { functionDeclarations: [{ name: "get_weather", parametersJsonSchema: { type: "object" } }] },
        ],
      },
    });
    expect(answer.functionCalls?.[0]).toMatchObject({ name: "get_weather", args: { query: "Paris" } });
  });

  it("rejects a bad key and maps statuses as documented", async () => {
    const wrong = await sdk("nope")
      .models.generateContent({ model: "gemini-test", contents: "hi" })
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect((wrong as ApiError).status).toBe(400);
    server.fail({ kind: "status", status: 429 });
    const limited = await sdk()
      .models.generateContent({ model: "gemini-test", contents: "hi" })
      .catch((e: unknown) => e);
    expect((limited as ApiError).status).toBe(429);
    expect((limited as ApiError).message).toContain("RESOURCE_EXHAUSTED");
  });
});

describe("the Gemini adapter", () => {
  it("translates a completion: systemInstruction, role model, usage, API key header", async () => {
    const completion = await geminiChat({
      endpoint: endpoint(),
      request: { ...hello, temperature: 0.3, seed: 7 },
      signal: signal(),
    });
    expect(completion.choices[0]).toMatchObject({
      message: { content: "Echo: hello there" },
      finish_reason: "stop",
    });
    expect(completion.usage.completion_tokens).toBe(3);
    const sent = server.seen.at(-1);
    expect(sent?.headers["x-goog-api-key"]).toBe(apiKey);
    expect(sent?.url).toBe("/v1beta/models/gemini-test:generateContent");
    expect(JSON.parse(sent?.body ?? "{}")).toMatchObject({
      systemInstruction: { parts: [{ text: "Be brief." }] },
      generationConfig: { temperature: 0.3, seed: 7, maxOutputTokens: 50 },
    });
  });

  it("n > 1 becomes candidateCount and one choice per candidate", async () => {
    const completion = await geminiChat({
      endpoint: endpoint(),
      request: { ...hello, n: 2 } as unknown as typeof hello,
      signal: signal(),
    });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1]);
  });

  it("streams over SSE with the finish reason and usage", async () => {
    const out = await drain(geminiChatStream({ endpoint: endpoint(), request: hello, signal: signal() }));
    expect(out).toMatchObject({ role: "assistant", text: "Echo: hello there", finish: "stop" });
    expect(out.usage?.completion_tokens).toBe(3);
  });

  it("round-trips a tool call, streamed and not; the result goes back as functionResponse by name", async () => {
    const completion = await geminiChat({ endpoint: endpoint(), request: withTools, signal: signal() });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(JSON.parse(call?.function.arguments ?? "")).toEqual({ query: "weather in Paris" });
    const streamed = await drain(
      geminiChatStream({ endpoint: endpoint(), request: withTools, signal: signal() }),
    );
    expect(streamed.finish).toBe("tool_calls");
    expect(streamed.calls[0]?.name).toBe("get_weather");
    const after = await geminiChat({
      endpoint: endpoint(),
      request: toolFollowUp(call?.id ?? "", call?.function.arguments ?? ""),
      signal: signal(),
    });
    expect(after.choices[0]?.message.content).toBe("Tool said: sunny");
  });

  it("maps 429/503 and a cut stream to retryable, 400 and a bad key not", async () => {
    for (const status of [429, 503]) {
      server.fail({ kind: "status", status });
      const error = await geminiChat({ endpoint: endpoint(), request: hello, signal: signal() }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ retryable: true, status });
    }
    server.fail({ kind: "cut" });
    const cut = await drain(
      geminiChatStream({ endpoint: endpoint(), request: hello, signal: signal() }),
    ).catch((e: unknown) => e);
    expect(cut).toMatchObject({ retryable: true });
    const badKey = await geminiChat({
      endpoint: { ...endpoint(), apiKey: "x" },
      request: hello,
      signal: signal(),
    }).catch((e: unknown) => e);
    expect(badKey).toMatchObject({ failure: "rejected", retryable: false, status: 400 });
    const logprobs = await geminiChat({
      endpoint: endpoint(),
      request: { ...hello, logprobs: true },
      signal: signal(),
    }).catch((e: unknown) => e);
    expect(String((logprobs as Error).message)).toContain("logprobs");
  });
});
