import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../../../shared/errors.ts";
import type { ChatCompletionRequest } from "../../../../shared/schemas/chat.ts";
import type { EndpointSpec } from "../../../../workers/providers/types.ts";
import type { RoutingTable, TierRoute } from "../../../../workers/registry/types.ts";
import { defaultBalancerOptions } from "../../../../workers/router/balancer.ts";
import { Router } from "../../../../workers/router/router.ts";
import { startAnthropicServer } from "../../../stack/conformance/anthropic.ts";
import { startAzureOpenAIServer } from "../../../stack/conformance/azure-openai.ts";
import { startBedrockServer } from "../../../stack/conformance/bedrock.ts";
import { startGeminiServer } from "../../../stack/conformance/gemini.ts";
import type { ConformanceServer } from "../../../stack/conformance/server.ts";
import { hello, nativeEndpoint } from "./helpers.ts";

const credentials = { accessKeyId: "AKIDFIELDS", secretAccessKey: "field-rules-secret" };
let gemini: ConformanceServer;
let azure: ConformanceServer;
let anthropic: ConformanceServer;
let bedrock: ConformanceServer;

beforeAll(async () => {
  [gemini, azure, anthropic, bedrock] = await Promise.all([
    startGeminiServer("gk"),
    startAzureOpenAIServer("zk", ["gpt"]),
    startAnthropicServer("ak"),
    startBedrockServer({ credentials, region: "eu-west-1", models: ["claude-b"] }),
  ]);
});
afterAll(() => Promise.all([gemini, azure, anthropic, bedrock].map((s) => s?.stop())));

/** Endpoints weighted so the balancer tries them in the order given. */
const weighted = (endpoints: EndpointSpec[]) => endpoints.map((e, i) => ({ ...e, weight: 1_000 / 10 ** i }));
const geminiEndpoint = () =>
  nativeEndpoint({
    provider: "gemini",
    baseURL: gemini.url,
    apiKey: "gk",
    model: "gemini-test",
    id: "gem-0",
  });
const azureEndpoint = () =>
  nativeEndpoint({ provider: "azure-openai", baseURL: azure.url, apiKey: "zk", model: "gpt", id: "az-0" });
const claudeEndpoint = () =>
  nativeEndpoint({
    provider: "anthropic",
    baseURL: anthropic.url,
    apiKey: "ak",
    model: "claude",
    id: "cl-0",
  });
const bedrockEndpoint = () =>
  nativeEndpoint({
    provider: "bedrock",
    baseURL: bedrock.url,
    apiKey: `${credentials.accessKeyId}:${credentials.secretAccessKey}`,
    model: "claude-b",
    options: { region: "eu-west-1" },
    id: "bed-0",
  });

function route(name: string, rank: number, endpoints: EndpointSpec[]): TierRoute {
  return {
    name,
    rank,
    kind: "chat",
    tasks: ["chat", "generate", "classify", "extract"],
    budgetMs: 100,
    timeoutMs: 5_000,
    versionId: `${name}:1`,
    version: `${name}@1`,
    endpoints: weighted(endpoints),
  };
}

const router = (tiers: TierRoute[]) =>
  new Router(() => ({ source: "env", tiers }) satisfies RoutingTable, {
    confidenceThreshold: 0.6,
    classifier: "heuristic",
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    balancer: { ...defaultBalancerOptions, failureThreshold: 5, cooldownMs: 60_000 },
  });
const ctx = () => ({
  requestId: crypto.randomUUID(),
  deadline: Date.now() + 30_000,
  signal: new AbortController().signal,
});
const ask = (model: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  ...hello,
  model,
  ...extra,
});
const bodiesSince = (server: ConformanceServer, from: number) => server.seen.slice(from).map((s) => s.body);

describe("a field one provider refuses is served by another", () => {
  it("logprobs skip the Gemini primary for the Azure endpoint, whole and streamed, and carry logprobs", async () => {
    const r = router([route("medium", 1, [geminiEndpoint(), azureEndpoint()])]);
    const before = gemini.seen.length;
    const done = await r.complete(ask("medium", { logprobs: true, top_logprobs: 2 }), ctx());
    expect(done.served).toMatchObject({ provider: "azure-openai", endpoint: "az-0" });
    expect(done.served.fallbackReason).toBe("gem-0:refuses=logprobs");
    const logprobs = (done.completion.choices[0] as { logprobs?: { content: { top_logprobs: unknown[] }[] } })
      .logprobs;
    expect(logprobs?.content.length).toBeGreaterThan(0);
    expect(logprobs?.content[0]?.top_logprobs).toHaveLength(2);

    const streamed = await r.stream(ask("medium", { logprobs: true, stream: true }), ctx());
    expect(streamed.served.provider).toBe("azure-openai");
    const chunks = [...streamed.stream.head];
    for await (const chunk of streamed.stream.rest) chunks.push(chunk);
    streamed.stream.finish("ok");
    expect(chunks.some((c) => c.choices[0]?.logprobs)).toBe(true);
    // Filtered before any attempt: the refusing provider never saw the request, and no retry was spent.
    expect(gemini.seen.length).toBe(before);
    expect(r.retries).toBe(0);
  });

  it("n > 1 streamed skips Gemini (it serves n only whole) for the next tier, across providers", async () => {
    const r = router([route("medium", 1, [geminiEndpoint()]), route("large", 2, [azureEndpoint()])]);
    const whole = await r.complete(ask("medium", { n: 2 }), ctx());
    expect(whole.served.provider).toBe("gemini");
    expect(whole.completion.choices).toHaveLength(2);
    const streamed = await r.stream(ask("medium", { n: 2, stream: true }), ctx());
    streamed.stream.finish("ok");
    expect(streamed.served).toMatchObject({ tier: "large", provider: "azure-openai" });
    expect(streamed.served.fallbackReason).toBe("gem-0:refuses=n");
  });

  it("a refusal the table could not foresee (a bmp image) moves on at once, as a safety net", async () => {
    const r = router([
      route("medium", 1, [bedrockEndpoint(), claudeEndpoint()]),
      route("large", 2, [azureEndpoint()]),
    ]);
    const before = [bedrock.seen.length, anthropic.seen.length];
    const image = ask("medium", {
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this?" },
            { type: "image_url", image_url: { url: "data:image/bmp;base64,Qk0=" } },
          ],
        },
      ],
    });
    const done = await r.complete(image, ctx());
    expect(done.served).toMatchObject({ provider: "azure-openai", endpoint: "az-0" });
    // Both endpoints of the tier refuse, in the balancer's order; then the next tier serves.
    expect(done.served.tier).toBe("large");
    const hops = done.served.fallbackReason.split(",").sort();
    expect(hops).toEqual([
      "bed-0:refuses=messages[].content[].image_url",
      "cl-0:refuses=messages[].content[].image_url",
    ]);
    expect([bedrock.seen.length, anthropic.seen.length]).toEqual(before);
    expect(r.retries).toBe(0);
    // With no other endpoint, the same refusal is the client's 400 naming the part.
    const alone = router([route("medium", 1, [bedrockEndpoint()])]);
    const refused = await alone.complete(image, ctx()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ status: 400, options: { param: "messages[].content[].image_url" } });
    expect((refused as GatewayError).message).toContain(
      "'messages[].content[].image_url' (refused by bedrock)",
    );
  });

  it("is a 400 naming the field and every refusing provider when no endpoint can honour it", async () => {
    const r = router([route("medium", 1, [geminiEndpoint()]), route("large", 2, [bedrockEndpoint()])]);
    const before = [gemini.seen.length, bedrock.seen.length];
    const refused = await r.complete(ask("medium", { logprobs: true }), ctx()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ status: 400, options: { param: "logprobs" } });
    expect((refused as GatewayError).message).toContain("'logprobs' (refused by gemini, bedrock)");
    expect([gemini.seen.length, bedrock.seen.length]).toEqual(before);
  });

  it("a dropped field is left out upstream and named in droppedFields", async () => {
    const r = router([route("medium", 1, [geminiEndpoint()])]);
    const before = gemini.seen.length;
    const done = await r.complete(
      ask("medium", { user: "user-7731", metadata: { team: "team-7731" }, seed: 5 }),
      ctx(),
    );
    expect(done.served.provider).toBe("gemini");
    expect(done.served.droppedFields).toEqual(["user", "metadata"]);
    const [body = ""] = bodiesSince(gemini, before);
    expect(body).not.toContain("7731");
    expect(JSON.parse(body)).toMatchObject({ generationConfig: { seed: 5 } });
  });
});
