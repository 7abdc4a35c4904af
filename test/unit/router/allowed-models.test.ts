import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../../shared/errors.ts";
import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import type { RoutingTable, TierRoute } from "../../../workers/registry/types.ts";
import { routerGenerator } from "../../../workers/retrieval/router-generator.ts";
import { defaultBalancerOptions } from "../../../workers/router/balancer.ts";
import { Router } from "../../../workers/router/router.ts";

// An OpenAI-compatible stand-in that answers with the model it was asked for; `small` is down.
let server: Server;
let baseURL = "";
const asked: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d: Buffer) => {
      raw += d.toString();
    });
    req.on("end", () => {
      const model = (JSON.parse(raw) as { model: string }).model;
      asked.push(model);
      if (model === "m-small") {
        res.writeHead(503, { "content-type": "application/json" }).end('{"error":{"message":"down"}}');
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: "c1",
          object: "chat.completion",
          created: 1,
          model,
          choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function tier(name: string, rank: number, kind: TierRoute["kind"] = "chat"): TierRoute {
  return {
    name,
    rank,
    kind,
    tasks: kind === "chat" ? ["classify", "extract", "chat", "generate"] : [],
    budgetMs: 200,
    timeoutMs: 5_000,
    versionId: `v-${name}`,
    version: `m-${name}@1`,
    endpoints: [
      {
        id: `${name}-0`,
        provider: "openai-compatible",
        baseURL,
        apiKey: "k",
        model: `m-${name}`,
        weight: 1,
        metricsURL: "",
        completions: false,
      },
    ],
  };
}

const table = (): RoutingTable => ({
  source: "env",
  tiers: [tier("small", 1), tier("medium", 2), tier("large", 3), tier("embed", 0, "embeddings")],
});

function router(): Router {
  return new Router(table, {
    confidenceThreshold: 0.6,
    classifier: "heuristic",
    retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 2 },
    balancer: { ...defaultBalancerOptions, failureThreshold: 100 },
  });
}

const ctx = (allowedModels: readonly string[] | null) => ({
  requestId: "r",
  deadline: Date.now() + 10_000,
  signal: new AbortController().signal,
  allowedModels,
});
const chat = (model: string): ChatCompletionRequest => ({
  model,
  messages: [{ role: "user", content: "hi" }],
});

async function forbidden(work: Promise<unknown>): Promise<void> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).code).toBe("MODEL_FORBIDDEN");
  expect((error as GatewayError).status).toBe(403);
}

describe("a key's allowed models bound every model the router may use", () => {
  it("without a limit, a failing small tier falls back to the next tier up", async () => {
    asked.length = 0;
    const { served } = await router().complete(chat("small"), ctx(null));
    expect(served.tier).toBe("medium");
    expect(asked).toEqual(["m-small", "m-medium"]);
  });

  it("a key limited to small never reaches medium or large through the fallback chain: rules answer", async () => {
    asked.length = 0;
    const { served, completion } = await router().complete(chat("small"), ctx(["small"]));
    expect(served.tier).toBe("rules");
    expect(asked).toEqual(["m-small"]);
    expect(completion.choices[0]?.message.content).toBeTruthy();
    asked.length = 0;
    const streamed = await router().stream({ ...chat("small"), stream: true }, ctx(["small"]));
    expect(streamed.served.tier).toBe("rules");
    expect(asked).toEqual(["m-small"]);
  });

  it("a key limited by concrete model names is held to the tiers serving them", async () => {
    asked.length = 0;
    const { served } = await router().complete(chat("m-small"), ctx(["m-small", "m-large@1"]));
    expect(served.tier).toBe("large");
    expect(asked).toEqual(["m-small", "m-large"]);
  });

  it("auto chooses only among the allowed tiers", async () => {
    asked.length = 0;
    const { served, decision } = await router().complete(chat("auto"), ctx(["auto", "medium"]));
    expect(decision.tier).toBe("medium");
    expect(served.tier).toBe("medium");
    expect(asked).toEqual(["m-medium"]);
  });

  it("answers 403 MODEL_FORBIDDEN when nothing the key allows can serve the request", async () => {
    await forbidden(router().complete(chat("large"), ctx(["small"])));
    await forbidden(router().complete(chat("m-large"), ctx(["small"])));
    await forbidden(router().complete(chat("auto"), ctx(["auto", "embed"])));
    await forbidden(router().embed({ model: "auto", input: "x" }, ctx(["small"])));
    // An unknown model stays a 404, limited key or not.
    const unknown = await router()
      .complete(chat("no-such-model"), ctx(["small"]))
      .catch((e: unknown) => e);
    expect((unknown as GatewayError).code).toBe("MODEL_NOT_FOUND");
  });

  it("the RAG generator uses the most capable allowed tier by default, and never a tier the key lacks", async () => {
    asked.length = 0;
    const messages = [{ role: "user" as const, content: "q" }];
    const options = { maxTokens: 8, temperature: 0 };
    const any = await routerGenerator(router(), 5_000, null).generate(messages, options);
    expect(any.model).toBe("m-large");
    const medium = await routerGenerator(router(), 5_000, ["small", "medium"]).generate(messages, options);
    expect(medium.model).toBe("m-medium");
    asked.length = 0;
    const small = await routerGenerator(router(), 5_000, ["small"]).generate(messages, options);
    // small is down; the chain stays within the key's tiers and ends in the extractive rules tier.
    expect(asked).toEqual(["m-small"]);
    expect(small.model).not.toBe("m-large");
    await forbidden(routerGenerator(router(), 5_000, ["embed"]).generate(messages, options));
  });
});
