import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bedrockChat } from "../../../../workers/providers/bedrock/chat.ts";
import { EventStreamDecoder } from "../../../../workers/providers/bedrock/event-stream.ts";
import { bedrockChatStream } from "../../../../workers/providers/bedrock/stream.ts";
import { ProviderError } from "../../../../workers/providers/openai-compatible/errors.ts";
import { encodeFrame, startBedrockServer } from "../../../stack/conformance/bedrock.ts";
import type { ConformanceServer } from "../../../stack/conformance/server.ts";
import { drain, hello, nativeEndpoint, signal, toolFollowUp, withTools } from "./helpers.ts";

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const model = "anthropic.claude-test-v1:0";
let server: ConformanceServer;
const endpoint = (apiKey = `${credentials.accessKeyId}:${credentials.secretAccessKey}`) =>
  nativeEndpoint({
    provider: "bedrock",
    baseURL: server.url,
    apiKey,
    model,
    options: { region: "eu-west-1" },
  });

beforeAll(async () => {
  server = await startBedrockServer({ credentials, region: "eu-west-1", models: [model] });
});
afterAll(() => server?.stop());

describe("the event-stream decoder", () => {
  it("decodes frames split at any byte and rejects a corrupted one", () => {
    const bytes = Buffer.concat([
      encodeFrame({ ":event-type": "a", ":message-type": "event" }, { x: 1 }),
      encodeFrame({ ":event-type": "b", ":message-type": "event" }, { y: "é" }),
    ]);
    const decoder = new EventStreamDecoder();
    const messages = [...bytes].flatMap((byte) => decoder.push(Uint8Array.of(byte)));
    expect(messages.map((m) => m.headers[":event-type"])).toEqual(["a", "b"]);
    expect(JSON.parse(new TextDecoder().decode(messages[1]?.payload))).toEqual({ y: "é" });
    expect(decoder.pending).toBe(false);
    const corrupted = Buffer.from(bytes);
    corrupted[20] = (corrupted[20] ?? 0) ^ 0xff;
    expect(() => new EventStreamDecoder().push(corrupted)).toThrow(/checksum/);
  });
});

describe("the Bedrock Converse adapter", () => {
  it("signs with SigV4 (verified by the server) and translates a completion", async () => {
    const completion = await bedrockChat({ endpoint: endpoint(), request: hello, signal: signal() });
    expect(completion.choices[0]).toMatchObject({
      message: { content: "Echo: hello there" },
      finish_reason: "stop",
    });
    expect(completion.usage.completion_tokens).toBe(3);
    const sent = server.seen.at(-1);
    expect(sent?.url).toBe(`/model/${encodeURIComponent(model)}/converse`);
    expect(sent?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/bedrock\/aws4_request/,
    );
    expect(JSON.parse(sent?.body ?? "{}")).toMatchObject({
      system: [{ text: "Be brief." }],
      inferenceConfig: { maxTokens: 50 },
    });
  });

  it("a wrong secret is a 403 InvalidSignatureException: misconfigured, not retried on this endpoint", async () => {
    const error = await bedrockChat({
      endpoint: endpoint(`${credentials.accessKeyId}:wrong`),
      request: hello,
      signal: signal(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: "misconfigured", status: 403 });
    expect(String((error as Error).message)).toContain("InvalidSignatureException");
  });

  it("decodes ConverseStream frames into chunks with finish reason and usage", async () => {
    const out = await drain(bedrockChatStream({ endpoint: endpoint(), request: hello, signal: signal() }));
    expect(out).toMatchObject({ role: "assistant", text: "Echo: hello there", finish: "stop" });
    expect(out.usage?.completion_tokens).toBe(3);
  });

  it("round-trips a tool call, streamed and not; the result goes back as toolResult", async () => {
    const completion = await bedrockChat({ endpoint: endpoint(), request: withTools, signal: signal() });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(JSON.parse(call?.function.arguments ?? "")).toEqual({ query: "weather in Paris" });
    const streamed = await drain(
      bedrockChatStream({ endpoint: endpoint(), request: withTools, signal: signal() }),
    );
    expect(streamed.finish).toBe("tool_calls");
    expect(JSON.parse(streamed.calls[0]?.arguments ?? "")).toEqual({ query: "weather in Paris" });
    const after = await bedrockChat({
      endpoint: endpoint(),
      request: toolFollowUp(call?.id ?? "", call?.function.arguments ?? ""),
      signal: signal(),
    });
    expect(after.choices[0]?.message.content).toBe("Tool said: sunny");
  });

  it("maps throttling (HTTP and in-stream) and a cut frame to retryable, validation to rejected", async () => {
    server.fail({ kind: "status", status: 429 });
    const throttled = await bedrockChat({ endpoint: endpoint(), request: hello, signal: signal() }).catch(
      (e: unknown) => e,
    );
    expect(throttled).toBeInstanceOf(ProviderError);
    expect(throttled).toMatchObject({ failure: "rate_limited", retryable: true });
    server.fail({ kind: "mid-stream", status: 429 });
    const inStream = await drain(
      bedrockChatStream({ endpoint: endpoint(), request: hello, signal: signal() }),
    ).catch((e: unknown) => e);
    expect(inStream).toMatchObject({ failure: "rate_limited", retryable: true });
    server.fail({ kind: "cut" });
    const cut = await drain(
      bedrockChatStream({ endpoint: endpoint(), request: hello, signal: signal() }),
    ).catch((e: unknown) => e);
    expect(cut).toMatchObject({ retryable: true });
    const invalid = await bedrockChat({
      endpoint: endpoint(),
      request: { ...hello, messages: [{ role: "assistant", content: "first" }] },
      signal: signal(),
    }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ failure: "rejected", retryable: false, status: 400 });
  });
});
