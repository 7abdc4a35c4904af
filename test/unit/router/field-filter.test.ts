import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../shared/errors.ts";
import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import type { EndpointSpec, ProviderKind } from "../../../workers/providers/types.ts";
import type { TierRoute } from "../../../workers/registry/types.ts";
import {
  droppedFields,
  honouringChain,
  servedWithFields,
  throwIfAllRefused,
} from "../../../workers/router/field-filter.ts";

const endpoint = (id: string, provider: ProviderKind, apiVersion?: string): EndpointSpec => ({
  id,
  provider,
  baseURL: "http://127.0.0.1:1",
  apiKey: "k",
  model: id,
  weight: 1,
  metricsURL: "",
  completions: false,
  ...(apiVersion ? { options: { apiVersion } } : {}),
});

const tier = (name: string, endpoints: EndpointSpec[]): TierRoute => ({
  name,
  rank: 1,
  kind: "chat",
  tasks: [],
  budgetMs: 100,
  timeoutMs: 1_000,
  versionId: `${name}:1`,
  version: `${name}@1`,
  endpoints,
});

const ask = (extra: Partial<ChatCompletionRequest>): ChatCompletionRequest => ({
  model: "house",
  messages: [{ role: "user", content: "hi" }],
  ...extra,
});

const chain = () => [
  tier("house", [endpoint("gem", "gemini"), endpoint("bed", "bedrock"), endpoint("claude", "anthropic")]),
  tier("large", [endpoint("vllm", "openai-compatible")]),
];
const ids = (tiers: TierRoute[]) => tiers.map((t) => [t.name, t.endpoints.map((e) => e.id)]);

describe("the candidate filter by field rules", () => {
  it("keeps the chain as it is when every endpoint honours the request", () => {
    const tiers = chain();
    const out = honouringChain(tiers, ask({ temperature: 0.2 }), false);
    expect(out.chain).toBe(tiers);
    expect(out.skipped).toEqual([]);
  });

  it("skips the endpoints whose provider refuses a field, recording why; tiers left empty drop out", () => {
    const logprobs = honouringChain(chain(), ask({ logprobs: true }), false);
    expect(ids(logprobs.chain)).toEqual([["large", ["vllm"]]]);
    expect(logprobs.skipped).toEqual([
      { endpoint: "gem", provider: "gemini", field: "logprobs" },
      { endpoint: "bed", provider: "bedrock", field: "logprobs" },
      { endpoint: "claude", provider: "anthropic", field: "logprobs" },
    ]);
    const schema = ask({
      response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object" } } },
    });
    expect(ids(honouringChain(chain(), schema, false).chain)).toEqual([
      ["house", ["gem"]],
      ["large", ["vllm"]],
    ]);
  });

  it("applies stream-only rules to streams: Gemini serves n > 1 whole, not streamed", () => {
    expect(ids(honouringChain(chain(), ask({ n: 2 }), false).chain)[0]).toEqual(["house", ["gem"]]);
    const streamed = honouringChain(chain(), ask({ n: 2 }), true);
    expect(ids(streamed.chain)).toEqual([["large", ["vllm"]]]);
    expect(streamed.skipped.map((s) => s.field)).toEqual(["n", "n", "n"]);
  });

  it("follows the endpoint's API version: Anthropic 2026-10-21 drops temperature instead of sending it", () => {
    const request = ask({ temperature: 0.3, user: "u" });
    expect(droppedFields(endpoint("c", "anthropic"), request, false)).toEqual([]);
    expect(droppedFields(endpoint("c", "anthropic", "2026-10-21"), request, false)).toEqual(["temperature"]);
    expect(droppedFields(endpoint("g", "gemini"), request, false)).toEqual(["user"]);
  });

  it("is a 400 naming the field and the refusing providers when no candidate can honour it", () => {
    const natives = [tier("house", [endpoint("gem", "gemini"), endpoint("bed", "bedrock")])];
    const error = (() => {
      try {
        honouringChain(natives, ask({ logprobs: true }), false);
      } catch (e: unknown) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: "BAD_REQUEST", status: 400, options: { param: "logprobs" } });
    expect((error as GatewayError).message).toContain("'logprobs' (refused by gemini, bedrock)");
  });

  it("leaves an empty chain to the outage path (no candidate is no refusal)", () => {
    expect(honouringChain([], ask({ logprobs: true }), false)).toEqual({ chain: [], skipped: [] });
  });

  it("puts the skips in front of the fallback reason and names the served endpoint's drops", () => {
    const request = ask({ logprobs: true, seed: 7, metadata: { a: "b" } });
    const candidates = honouringChain(
      [tier("house", [endpoint("claude", "anthropic"), endpoint("gem2", "gemini")]), ...chain().slice(1)],
      ask({ response_format: { type: "json_object" }, seed: 7, metadata: { a: "b" } }),
      false,
    );
    const served = servedWithFields(
      { endpoint: "gem2", fallbackReason: "" },
      { ...candidates, request: { ...request, logprobs: false }, stream: false },
    );
    expect(served.fallbackReason).toBe("claude:refuses=response_format");
    expect(served.droppedFields).toEqual(["metadata"]);
    const after = servedWithFields(
      { endpoint: "vllm", fallbackReason: "gem2:server" },
      { ...candidates, request, stream: false },
    );
    expect(after.fallbackReason).toBe("claude:refuses=response_format>gem2:server");
    expect(after.droppedFields).toBeUndefined();
  });

  it("answers a 400 when every attempt of an exhausted chain was a refusal at run time, else not", () => {
    const none = { chain: [], skipped: [] };
    const refusal = { endpoint: "b", failure: "refuses=x", refusal: { provider: "bedrock", field: "x" } };
    expect(() => throwIfAllRefused("m", none, [refusal])).toThrow(GatewayError);
    expect(() => throwIfAllRefused("m", none, [refusal, { endpoint: "v", failure: "server" }])).not.toThrow();
    expect(() => throwIfAllRefused("m", none, [])).not.toThrow();
  });
});
