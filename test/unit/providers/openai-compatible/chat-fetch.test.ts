import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatCompletion } from "../../../../workers/providers/openai-compatible/chat.ts";
import { AttemptTimeout, ProviderError } from "../../../../workers/providers/openai-compatible/errors.ts";
import type { EndpointSpec } from "../../../../workers/providers/types.ts";
import { nativeEndpoint } from "../native/helpers.ts";

/** What the server saw of the last call. */
let last: { url: string; authorization: string; body: Record<string, unknown> } | undefined;
let server: Server;
let baseURL: string;

const answer = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "served-model",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
};

async function bodyOf(request: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text;
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const body = JSON.parse(await bodyOf(request)) as Record<string, unknown>;
    last = { url: request.url ?? "", authorization: request.headers.authorization ?? "", body };
    const content = String((body.messages as { content: string }[])[0]?.content);
    if (content.startsWith("status ")) {
      response.writeHead(Number(content.slice(7)), { "content-type": "application/json" });
      response.end('{"error":{"message":"no"}}');
    } else if (content === "not json") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end("<html>");
    } else if (content === "slow") {
      setTimeout(() => response.end(JSON.stringify(answer)), 2_000);
    } else {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(answer));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const endpoint = (url = baseURL): EndpointSpec =>
  nativeEndpoint({
    provider: "openai-compatible",
    baseURL: url,
    apiKey: "sk-test",
    model: "served-model",
    id: "oa-0",
  });

function call(content: string, signal = new AbortController().signal, url?: string) {
  return chatCompletion({
    endpoint: endpoint(url),
    request: { model: "auto", messages: [{ role: "user", content }], temperature: 0, stream: true },
    signal,
  });
}

async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe("openai-compatible whole answers over plain fetch", () => {
  it("posts the SDK's call: /chat/completions, Bearer key, the endpoint's model, no stream fields", async () => {
    await expect(call("hello")).resolves.toEqual(answer);
    expect(last?.url).toBe("/v1/chat/completions");
    expect(last?.authorization).toBe("Bearer sk-test");
    expect(last?.body).toEqual({
      model: "served-model",
      messages: [{ role: "user", content: "hello" }],
      temperature: 0,
      stream: false,
    });
  });

  it("maps statuses as the SDK's errors map: 429, 5xx, 401/404, 400", async () => {
    const kinds = await Promise.all(
      [429, 503, 401, 404, 400].map(async (status) => {
        const error = await failureOf(call(`status ${status}`));
        return [error.failure, error.status, error.retryable, error.message];
      }),
    );
    expect(kinds).toEqual([
      ["rate_limited", 429, true, "model: chat oa-0: HTTP 429"],
      ["server", 503, true, "model: chat oa-0: HTTP 503"],
      ["misconfigured", 401, false, "model: chat oa-0: HTTP 401"],
      ["misconfigured", 404, false, "model: chat oa-0: HTTP 404"],
      ["rejected", 400, false, "model: chat oa-0: HTTP 400"],
    ]);
  });

  it("a 2xx body that is not JSON is a retryable cut answer", async () => {
    const error = await failureOf(call("not json"));
    expect([error.failure, error.retryable]).toEqual(["stream_cut", true]);
  });

  it("a refused connection is a connection failure", async () => {
    const error = await failureOf(call("hello", undefined, "http://127.0.0.1:1/v1"));
    expect([error.failure, error.retryable]).toEqual(["connection", true]);
  });

  it("the router's attempt timeout is a timeout, any other abort is aborted", async () => {
    const timer = new AbortController();
    const timedOut = call("slow", timer.signal);
    setTimeout(() => timer.abort(new AttemptTimeout("attempt timed out")), 50);
    expect((await failureOf(timedOut)).failure).toBe("timeout");
    const client = new AbortController();
    const aborted = call("slow", client.signal);
    setTimeout(() => client.abort(), 50);
    expect((await failureOf(aborted)).failure).toBe("aborted");
  });
});
