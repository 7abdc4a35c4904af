import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { azureChat, azureChatStream } from "../../../../workers/providers/azure-openai/chat.ts";
import { providerEmbeddings } from "../../../../workers/providers/dispatch.ts";
import { ProviderError } from "../../../../workers/providers/openai-compatible/errors.ts";
import { startAzureOpenAIServer } from "../../../stack/conformance/azure-openai.ts";
import type { ConformanceServer } from "../../../stack/conformance/server.ts";
import { drain, hello, nativeEndpoint, signal, withTools } from "./helpers.ts";

const apiKey = "az-test-key";
let server: ConformanceServer;
const endpoint = (model = "gpt-deploy") =>
  nativeEndpoint({
    provider: "azure-openai",
    baseURL: server.url,
    apiKey,
    model,
    options: { apiVersion: "2024-10-21" },
  });

beforeAll(async () => {
  server = await startAzureOpenAIServer(apiKey, ["gpt-deploy"]);
});
afterAll(() => server?.stop());

describe("the Azure OpenAI adapter", () => {
  it("calls the deployment URL with api-version and the api-key header", async () => {
    const completion = await azureChat({ endpoint: endpoint(), request: hello, signal: signal() });
    expect(completion.choices[0]?.message.content).toBe("Echo: hello there");
    expect(completion.usage.completion_tokens).toBe(3);
    const sent = server.seen.at(-1);
    expect(sent?.url).toBe("/openai/deployments/gpt-deploy/chat/completions?api-version=2024-10-21");
    expect(sent?.headers["api-key"]).toBe(apiKey);
  });

  it("streams past Azure's empty prompt-filter chunk, with usage", async () => {
    const out = await drain(azureChatStream({ endpoint: endpoint(), request: hello, signal: signal() }));
    expect(out).toMatchObject({ text: "Echo: hello there", finish: "stop" });
    expect(out.usage?.completion_tokens).toBe(3);
  });

  it("passes tool calls through, streamed and not", async () => {
    const completion = await azureChat({ endpoint: endpoint(), request: withTools, signal: signal() });
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    const streamed = await drain(
      azureChatStream({ endpoint: endpoint(), request: withTools, signal: signal() }),
    );
    expect(streamed.calls[0]?.name).toBe("get_weather");
    expect(JSON.parse(streamed.calls[0]?.arguments ?? "")).toEqual({ query: "weather in Paris" });
  });

  it("serves embeddings on the deployment; a provider without embeddings is misconfigured", async () => {
    const request = { model: "auto", input: ["alpha", "beta"] };
    const response = await providerEmbeddings({ endpoint: endpoint(), request, signal: signal() });
    expect(response.data.map((d) => d.index)).toEqual([0, 1]);
    expect(server.seen.at(-1)?.url).toBe("/openai/deployments/gpt-deploy/embeddings?api-version=2024-10-21");
    const gemini = { ...endpoint(), provider: "gemini" as const };
    await expect(providerEmbeddings({ endpoint: gemini, request, signal: signal() })).rejects.toMatchObject({
      failure: "misconfigured",
    });
  });

  it("maps 429 to retryable; a missing deployment, wrong version or key to misconfigured/rejected", async () => {
    server.fail({ kind: "status", status: 429 });
    const limited = await azureChat({ endpoint: endpoint(), request: hello, signal: signal() }).catch(
      (e: unknown) => e,
    );
    expect(limited).toBeInstanceOf(ProviderError);
    expect(limited).toMatchObject({ failure: "rate_limited", retryable: true });
    const missing = await azureChat({ endpoint: endpoint("nope"), request: hello, signal: signal() }).catch(
      (e: unknown) => e,
    );
    expect(missing).toMatchObject({ failure: "misconfigured", status: 404 });
    const version = await azureChat({
      endpoint: { ...endpoint(), options: { apiVersion: "1999-01-01" } },
      request: hello,
      signal: signal(),
    }).catch((e: unknown) => e);
    expect(version).toMatchObject({ failure: "rejected", retryable: false, status: 400 });
    const key = await azureChat({
      endpoint: { ...endpoint(), apiKey: "x" },
      request: hello,
      signal: signal(),
    }).catch((e: unknown) => e);
    expect(key).toMatchObject({ failure: "misconfigured", status: 401 });
  });
});
