import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../../../shared/errors.ts";
import type { Capability, EndpointSpec } from "../../../../workers/providers/types.ts";
import {
  type CatalogModel,
  defaultTiers,
  type RoutingTable,
  type TierRoute,
} from "../../../../workers/registry/types.ts";
import { defaultBalancerOptions } from "../../../../workers/router/balancer.ts";
import { Router } from "../../../../workers/router/router.ts";
import { startAnthropicServer } from "../../../stack/conformance/anthropic.ts";
import { startAzureOpenAIServer } from "../../../stack/conformance/azure-openai.ts";
import type { ConformanceServer } from "../../../stack/conformance/server.ts";
import { hello, nativeEndpoint, withTools } from "./helpers.ts";

let anthropic: ConformanceServer;
let azure: ConformanceServer;

beforeAll(async () => {
  [anthropic, azure] = await Promise.all([startAnthropicServer("ak"), startAzureOpenAIServer("zk", ["gpt"])]);
});
afterAll(() => Promise.all([anthropic?.stop(), azure?.stop()]));

/** An OpenAI-compatible endpoint whose server answers 503 (the Azure resource with a queued fault) or refuses. */
const failingOpenAI = (): EndpointSpec => ({
  ...nativeEndpoint({
    provider: "openai-compatible",
    baseURL: "http://127.0.0.1:1/v1",
    apiKey: "x",
    model: "gpt",
    id: "oa-dead",
  }),
  weight: 1_000,
});
const claude = (capabilities?: Capability[]): EndpointSpec => ({
  ...nativeEndpoint({
    provider: "anthropic",
    baseURL: anthropic.url,
    apiKey: "ak",
    model: "claude-test",
    id: "claude-0",
  }),
  weight: 0.001,
  ...(capabilities ? { capabilities } : {}),
});

function route(name: string, endpoints: EndpointSpec[]): TierRoute {
  const shape = defaultTiers.find((t) => t.name === name) ?? {
    name,
    rank: 9,
    kind: "chat" as const,
    tasks: [],
  };
  return {
    ...shape,
    budgetMs: 100,
    timeoutMs: 5_000,
    versionId: `${name}:1`,
    version: `${name}@1`,
    endpoints,
  };
}

function catalogModel(
  name: string,
  endpoints: EndpointSpec[],
  capabilities: Capability[],
  extra: Partial<CatalogModel> = {},
): CatalogModel {
  const withCaps = endpoints.map((e) => ({ ...e, capabilities, contextWindow: 8_000 }));
  return {
    ...route(name, withCaps),
    rank: 2,
    tasks: [],
    aliases: [],
    autoTier: null,
    contextWindow: 8_000,
    capabilities,
    ...extra,
  };
}

function router(table: RoutingTable): Router {
  return new Router(() => table, {
    confidenceThreshold: 0.6,
    classifier: "heuristic",
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    balancer: { ...defaultBalancerOptions, failureThreshold: 5, cooldownMs: 60_000 },
  });
}

const ctx = () => ({
  requestId: crypto.randomUUID(),
  deadline: Date.now() + 30_000,
  signal: new AbortController().signal,
});

describe("cross-provider fallback and capability routing", () => {
  it("an Anthropic endpoint backs a failing OpenAI-compatible one in a catalog model, by alias, streamed and not", async () => {
    const table: RoutingTable = {
      source: "env",
      tiers: [],
      models: [
        catalogModel("house-chat", [failingOpenAI(), claude()], ["tools"], { aliases: ["chat-latest"] }),
      ],
    };
    const done = await router(table).complete({ ...hello, model: "chat-latest" }, ctx());
    expect(done.served).toMatchObject({ tier: "house-chat", provider: "anthropic", endpoint: "claude-0" });
    expect(done.served.fallbackReason).toContain("oa-dead:connection");
    expect(done.completion.choices[0]?.message.content).toBe("Echo: hello there");
    const streamed = await router(table).stream({ ...hello, model: "house-chat", stream: true }, ctx());
    expect(streamed.served.provider).toBe("anthropic");
    expect(streamed.stream.head.map((c) => c.choices[0]?.delta.content ?? "").join("")).toContain("Echo:");
  });

  it("a 503 from an Azure primary falls over to Anthropic in the next tier", async () => {
    azure.fail(
      { kind: "status", status: 503 },
      { kind: "status", status: 503 },
      { kind: "status", status: 503 },
    );
    const azureEndpoint = nativeEndpoint({
      provider: "azure-openai",
      baseURL: azure.url,
      apiKey: "zk",
      model: "gpt",
      id: "az-0",
    });
    const table: RoutingTable = {
      source: "env",
      tiers: [route("medium", [azureEndpoint]), route("large", [claude()])],
    };
    const done = await router(table).complete({ ...hello, model: "medium" }, ctx());
    expect(done.served).toMatchObject({ tier: "large", provider: "anthropic" });
    expect(done.served.fallbackReason).toMatch(/az-0:server>?/);
  });

  it("a request with tools never goes to a model without tool support", async () => {
    const table: RoutingTable = {
      source: "env",
      tiers: [
        route("medium", [{ ...claude([]), id: "no-tools" }]),
        route("large", [{ ...claude(["tools"]), id: "tools" }]),
      ],
      models: [catalogModel("plain", [claude()], [])],
    };
    const done = await router(table).complete({ ...withTools, model: "medium" }, ctx());
    expect(done.served).toMatchObject({ tier: "large", endpoint: "tools" });
    expect(done.completion.choices[0]?.finish_reason).toBe("tool_calls");
    const refused = await router(table)
      .complete({ ...withTools, model: "plain" }, ctx())
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayError);
    expect((refused as GatewayError).message).toContain("tools");
    const plain = await router(table).complete({ ...hello, model: "plain" }, ctx());
    expect(plain.served.tier).toBe("plain");
  });

  it("a prompt beyond the model's context window is refused, and the catalog is listed in /v1/models", async () => {
    const table: RoutingTable = {
      source: "env",
      tiers: [],
      models: [catalogModel("tiny", [claude()], ["tools"], { aliases: ["t"] })],
    };
    const long = {
      ...hello,
      model: "tiny",
      messages: [{ role: "user" as const, content: "x".repeat(40_000) }],
    };
    await expect(router(table).complete(long, ctx())).rejects.toThrow(/context window/);
    expect(
      router(table)
        .models("tiergate")
        .data.map((m) => m.id),
    ).toEqual(expect.arrayContaining(["tiny", "t"]));
  });
});
