import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/**
 * A scripted OpenAI-wire-format upstream for what the CPU model server cannot do (tools, logprobs,
 * `n` > 1). Registered as the `large` tier of a private pool. It records every request body so tests
 * can check what reached the upstream. Answers carry a call counter, so a cached replay is
 * distinguishable from a fresh answer. A last user message containing `[hold]` streams its first
 * delta (a tool call) and then waits for `release()` before the rest.
 */
export interface FakeUpstream {
  url: string;
  bodies: Record<string, unknown>[];
  release(): void;
  close(): Promise<void>;
}

type Body = Record<string, unknown> & {
  model?: string;
  n?: number;
  stream?: boolean;
  logprobs?: boolean;
  top_logprobs?: number;
  tools?: { type: string; function?: { name: string } }[];
  tool_choice?: unknown;
  messages?: { role: string; content?: unknown }[];
  stream_options?: { include_usage?: boolean };
};

function logprobsOf(text: string, top: number) {
  return text.split(/(?= )/).map((token, i) => ({
    token,
    logprob: -0.1 * (i + 1),
    bytes: [...new TextEncoder().encode(token)],
    top_logprobs: Array.from({ length: top }, (_, k) => ({
      token: `${token}${k}`,
      logprob: -1 - k,
      bytes: null,
    })),
  }));
}

function lastUserText(body: Body): string {
  const user = [...(body.messages ?? [])].reverse().find((m) => m.role === "user");
  if (!user) return "";
  return typeof user.content === "string" ? user.content : JSON.stringify(user.content);
}

function wantsTool(body: Body): boolean {
  return (body.tools?.length ?? 0) > 0 && body.tool_choice !== "none";
}

/** One choice's answer: a tool call to the first tool, or text naming the call number and choice. */
function answerOf(body: Body, call: number, index: number) {
  if (wantsTool(body)) {
    const name = body.tools?.[0]?.function?.name ?? "tool";
    return {
      text: null,
      tool: { id: `call_${call}_${index}`, name, arguments: `{"city":"Paris","n":${call}}` },
    };
  }
  return { text: `answer ${call} choice ${index}`, tool: null };
}

const usage = { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 };

function completion(body: Body, call: number) {
  const choices = Array.from({ length: body.n ?? 1 }, (_, index) => {
    const { text, tool } = answerOf(body, call, index);
    return {
      index,
      message: {
        role: "assistant",
        content: text,
        refusal: null,
        ...(tool
          ? {
              tool_calls: [
                { id: tool.id, type: "function", function: { name: tool.name, arguments: tool.arguments } },
              ],
            }
          : {}),
      },
      logprobs:
        body.logprobs && text ? { content: logprobsOf(text, body.top_logprobs ?? 0), refusal: null } : null,
      finish_reason: tool ? "tool_calls" : "stop",
    };
  });
  return {
    id: `chatcmpl-fake-${call}`,
    object: "chat.completion",
    created: 1_700_000_000,
    model: body.model,
    choices,
    usage,
  };
}

/** The chunks of one choice: role, text word by word (with logprobs) or a tool call in two fragments. */
function choiceChunks(body: Body, call: number, index: number): Record<string, unknown>[] {
  const { text, tool } = answerOf(body, call, index);
  const out: Record<string, unknown>[] = [
    { index, delta: { role: "assistant", content: "" }, finish_reason: null },
  ];
  if (tool) {
    const half = Math.floor(tool.arguments.length / 2);
    out.push({
      index,
      delta: {
        tool_calls: [
          {
            index: 0,
            id: tool.id,
            type: "function",
            function: { name: tool.name, arguments: tool.arguments.slice(0, half) },
          },
        ],
      },
      finish_reason: null,
    });
    out.push({
      index,
      delta: { tool_calls: [{ index: 0, function: { arguments: tool.arguments.slice(half) } }] },
      finish_reason: null,
    });
  } else if (text) {
    for (const token of text.split(/(?= )/)) {
      const logprobs = body.logprobs
        ? { content: logprobsOf(token, body.top_logprobs ?? 0), refusal: null }
        : null;
      out.push({ index, delta: { content: token }, logprobs, finish_reason: null });
    }
  }
  out.push({ index, delta: {}, finish_reason: tool ? "tool_calls" : "stop" });
  return out;
}

async function stream(response: ServerResponse, body: Body, call: number, held: Promise<void> | null) {
  response.writeHead(200, { "content-type": "text/event-stream" });
  const base = {
    id: `chatcmpl-fake-${call}`,
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: body.model,
  };
  const write = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
  for (let index = 0; index < (body.n ?? 1); index++) {
    const chunks = choiceChunks(body, call, index);
    for (const [i, choice] of chunks.entries()) {
      write({ ...base, choices: [choice] });
      if (held && i === 1) await held;
    }
  }
  write({ ...base, choices: [], usage });
  response.end("data: [DONE]\n\n");
}

async function readBody(request: IncomingMessage): Promise<Body> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return JSON.parse(Buffer.concat(parts).toString("utf8")) as Body;
}

/** Starts the fake on `port` (127.0.0.1). */
export async function startFakeUpstream(port: number): Promise<FakeUpstream> {
  const bodies: Record<string, unknown>[] = [];
  let calls = 0;
  let releaseHold: () => void = () => {};
  let hold = new Promise<void>((r) => {
    releaseHold = r;
  });
  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = (request.url ?? "").replace(/^\/v1/, "");
      if (request.method === "GET" && path === "/models") {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            object: "list",
            data: [{ id: "fake", object: "model", created: 0, owned_by: "test" }],
          }),
        );
        return;
      }
      if (request.method !== "POST" || path !== "/chat/completions") {
        response.writeHead(404).end();
        return;
      }
      const body = await readBody(request);
      bodies.push(body);
      calls++;
      if (body.stream) {
        await stream(response, body, calls, lastUserText(body).includes("[hold]") ? hold : null);
        return;
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(completion(body, calls)));
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}/v1`,
    bodies,
    release() {
      releaseHold();
      hold = new Promise<void>((r) => {
        releaseHold = r;
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
