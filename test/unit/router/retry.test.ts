import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import type { RoutingTable } from "../../../workers/registry/types.ts";
import { defaultBalancerOptions } from "../../../workers/router/balancer.ts";
import { Router } from "../../../workers/router/router.ts";

// An in-process OpenAI-compatible stub: the first call answers 503, later calls succeed.
let calls = 0;
let server: Server;
let baseURL = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      calls++;
      if (calls === 1) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "busy", type: "server_error" } }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "c1",
          object: "chat.completion",
          created: 1,
          model: "stub",
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

describe("router retries", () => {
  it("retries a 503 on the same tier with backoff and answers from the second attempt", async () => {
    const table: RoutingTable = {
      source: "env",
      tiers: [
        {
          name: "medium",
          rank: 2,
          kind: "chat",
          tasks: ["chat"],
          budgetMs: 200,
          timeoutMs: 5_000,
          versionId: "v",
          version: "stub@1",
          endpoints: [
            {
              id: "only",
              provider: "openai-compatible",
              baseURL,
              apiKey: "k",
              model: "stub",
              weight: 1,
              metricsURL: "",
              completions: true,
            },
          ],
        },
      ],
    };
    const router = new Router(() => table, {
      confidenceThreshold: 0.6,
      classifier: "heuristic",
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      balancer: { ...defaultBalancerOptions, failureThreshold: 5 },
    });
    const request: ChatCompletionRequest = { model: "medium", messages: [{ role: "user", content: "hi" }] };
    const result = await router.complete(request, {
      requestId: "r",
      deadline: Date.now() + 10_000,
      signal: new AbortController().signal,
    });
    expect(calls).toBe(2);
    expect(router.retries).toBe(1);
    expect(result.served).toMatchObject({ tier: "medium", endpoint: "only", fallbackReason: "only:server" });
    expect(result.completion.choices[0]?.message.content).toBe("ok");
  });
});
