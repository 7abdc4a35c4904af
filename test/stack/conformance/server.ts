import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the conformance server received it (tests assert on what the adapter sent). */
export interface SeenRequest {
  method: string;
  /** Raw path with query, as sent. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A failure the next request gets instead of an answer, in the provider's documented shape. */
export type Fault =
  /** An HTTP error status before anything is streamed. */
  | { kind: "status"; status: number }
  /** A stream that starts and then fails with the provider's in-stream error. */
  | { kind: "mid-stream"; status: number }
  /** A stream cut after its first text delta (the connection closes). */
  | { kind: "cut" };

/** The handler of one provider: answers a request, honouring a fault if one is queued. */
export type Handler = (
  request: SeenRequest,
  response: ServerResponse,
  fault: Fault | undefined,
) => Promise<void> | void;

/** A running conformance server. */
export interface ConformanceServer {
  url: string;
  /** Every request received, oldest first. */
  seen: SeenRequest[];
  /** Queues faults for the next requests (one per request, in order). */
  fail(...faults: Fault[]): void;
  stop(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts a server on a free loopback port. */
export async function startConformanceServer(handler: Handler): Promise<ConformanceServer> {
  const seen: SeenRequest[] = [];
  const faults: Fault[] = [];
  const server: Server = createServer((request, response) => {
    void readBody(request).then(async (body) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === "string") headers[name] = value;
        else if (Array.isArray(value)) headers[name] = value.join(", ");
      }
      const seenRequest = { method: request.method ?? "GET", url: request.url ?? "/", headers, body };
      seen.push(seenRequest);
      try {
        await handler(seenRequest, response, faults.shift());
      } catch (error: unknown) {
        if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
        response.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    fail: (...more) => faults.push(...more),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON body with a status and headers. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

/** Parses a JSON body; undefined when it is not a JSON object. */
export function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A message of the fake model: deterministic, derived from the request. */
export interface FakeAnswer {
  /** Text words, streamed one delta per word. */
  words: string[];
  /** A tool call to make instead of (after) the text, when the request offers tools. */
  toolCall?: { name: string; input: Record<string, unknown> };
  inputTokens: number;
  outputTokens: number;
}

/**
 * The fake model's rule, shared by every provider: with tools offered (and not the turn after a tool
 * result) it calls the forced or first tool with `{"query": <last user text>}`; otherwise it answers
 * `Echo: <last user text>` (or `Tool said: <result>` after a tool result), cut to `maxTokens` words.
 */
export function fakeAnswer(input: {
  lastUserText: string;
  lastToolResult?: string;
  tools: string[];
  forcedTool?: string;
  toolsDisabled: boolean;
  maxTokens: number;
  promptChars: number;
}): FakeAnswer {
  const inputTokens = Math.max(1, Math.ceil(input.promptChars / 4));
  const name = input.forcedTool ?? input.tools[0];
  if (name && !input.toolsDisabled && input.lastToolResult === undefined) {
    return {
      words: [],
      toolCall: { name, input: { query: input.lastUserText } },
      inputTokens,
      outputTokens: 8,
    };
  }
  const text =
    input.lastToolResult !== undefined ? `Tool said: ${input.lastToolResult}` : `Echo: ${input.lastUserText}`;
  const words = text.split(/(?<= )/).slice(0, Math.max(1, input.maxTokens));
  return { words, inputTokens, outputTokens: words.length };
}

/** Writes one SSE event (`event:` line only when named). */
export function writeSse(response: ServerResponse, data: unknown, event?: string, lineEnd = "\n"): void {
  response.write(
    `${event ? `event: ${event}${lineEnd}` : ""}data: ${JSON.stringify(data)}${lineEnd}${lineEnd}`,
  );
}
