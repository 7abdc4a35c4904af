import type { ServerResponse } from "node:http";
import { z } from "zod";
import {
  type ConformanceServer,
  type Fault,
  fakeAnswer,
  parseObject,
  type SeenRequest,
  sendJson,
  startConformanceServer,
} from "./server.ts";

/**
 * A local Azure OpenAI resource reproducing the documented data-plane format:
 * `POST /openai/deployments/{deployment}/chat/completions?api-version=...`, the key in the `api-key`
 * header (or an Entra `Authorization: Bearer`), a required supported `api-version`, deployments that
 * must exist, OpenAI's chat body and chunks (a first chunk with empty `choices` and
 * `prompt_filter_results`, then `data: [DONE]`), and `{error:{code,message}}` bodies (429 with
 * `retry-after`, 404 DeploymentNotFound, 401 on a wrong key).
 */
export const azureApiVersions = ["2024-02-01", "2024-06-01", "2024-10-21", "2025-01-01-preview"];

const message = z.looseObject({ role: z.enum(["system", "developer", "user", "assistant", "tool"]) });
const requestSchema = z.looseObject({
  messages: z.array(message).min(1),
  max_tokens: z.number().int().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  n: z.number().int().min(1).max(128).optional(),
  stream: z.boolean().optional(),
  tools: z
    .array(z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }))
    .optional(),
  tool_choice: z.unknown().optional(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
});
type AzureRequest = z.infer<typeof requestSchema>;

function sendError(response: ServerResponse, status: number, code: string, text: string): void {
  sendJson(
    response,
    status,
    { error: { code, message: text } },
    status === 429 ? { "retry-after": "1" } : {},
  );
}

function contentText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value))
    return value.map((p: { text?: unknown }) => (typeof p.text === "string" ? p.text : "")).join("");
  return "";
}

function answerOf(request: AzureRequest) {
  const last = request.messages.at(-1);
  const lastUser = [...request.messages].reverse().find((m) => m.role === "user");
  const choice = request.tool_choice as { function?: { name?: string } } | string | undefined;
  return fakeAnswer({
    lastUserText: contentText(lastUser?.content),
    ...(last?.role === "tool" ? { lastToolResult: contentText(last.content) } : {}),
    tools: (request.tools ?? []).map((t) => String(t.function.name)),
    ...(typeof choice === "object" && choice.function?.name ? { forcedTool: choice.function.name } : {}),
    toolsDisabled: choice === "none",
    maxTokens: request.max_tokens ?? 4096,
    promptChars: JSON.stringify(request.messages).length,
  });
}

/**
 * OpenAI's `logprobs` object for the answer's words when the request asked for them: one entry per
 * token with its UTF-8 bytes and `top_logprobs` alternatives (the token itself first), else null.
 */
function logprobsOf(request: AzureRequest, words: string[]) {
  if (request.logprobs !== true) return null;
  const top = request.top_logprobs ?? 0;
  return {
    content: words.map((token, i) => {
      const logprob = -0.01 * (i + 1);
      const entry = { token, logprob, bytes: [...new TextEncoder().encode(token)] };
      const others = Array.from({ length: Math.max(0, top - 1) }, (_, k) => ({
        token: `${token.trim()}_${k}`,
        logprob: logprob - (k + 1),
        bytes: [...new TextEncoder().encode(`${token.trim()}_${k}`)],
      }));
      return { ...entry, top_logprobs: top > 0 ? [entry, ...others] : [] };
    }),
    refusal: null,
  };
}

const filterResults = [
  { prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: "safe" } } },
];

function toolCallOf(answer: ReturnType<typeof answerOf>) {
  return answer.toolCall
    ? [
        {
          id: `call_${crypto.randomUUID().slice(0, 8)}`,
          type: "function",
          function: { name: answer.toolCall.name, arguments: JSON.stringify(answer.toolCall.input) },
        },
      ]
    : undefined;
}

function whole(response: ServerResponse, request: AzureRequest, model: string): void {
  const answer = answerOf(request);
  const calls = toolCallOf(answer);
  sendJson(response, 200, {
    id: `chatcmpl-${crypto.randomUUID()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    prompt_filter_results: filterResults,
    choices: Array.from({ length: request.n ?? 1 }, (_, index) => ({
      index,
      message: {
        role: "assistant",
        content: calls ? null : answer.words.join(""),
        ...(calls ? { tool_calls: calls } : {}),
      },
      logprobs: logprobsOf(request, calls ? [] : answer.words),
      finish_reason: calls ? "tool_calls" : "stop",
      content_filter_results: {},
    })),
    usage: {
      prompt_tokens: answer.inputTokens,
      completion_tokens: answer.outputTokens,
      total_tokens: answer.inputTokens + answer.outputTokens,
    },
  });
}

function stream(
  response: ServerResponse,
  request: AzureRequest,
  model: string,
  fault: Fault | undefined,
): void {
  const answer = answerOf(request);
  const calls = toolCallOf(answer);
  const head = {
    id: `chatcmpl-${crypto.randomUUID()}`,
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
  };
  const write = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
  response.writeHead(200, { "content-type": "text/event-stream" });
  write({ id: "", object: "", created: 0, model: "", prompt_filter_results: filterResults, choices: [] });
  write({ ...head, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
  if (calls)
    write({
      ...head,
      choices: [
        { index: 0, delta: { tool_calls: calls.map((c, i) => ({ index: i, ...c })) }, finish_reason: null },
      ],
    });
  for (const [i, word] of answer.words.entries()) {
    const logprobs = logprobsOf(request, [word]);
    write({ ...head, choices: [{ index: 0, delta: { content: word }, logprobs, finish_reason: null }] });
    if (i === 0 && fault?.kind === "cut") return void response.destroy();
  }
  write({ ...head, choices: [{ index: 0, delta: {}, finish_reason: calls ? "tool_calls" : "stop" }] });
  const includeUsage = (request.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
  if (includeUsage) {
    write({
      ...head,
      choices: [],
      usage: {
        prompt_tokens: answer.inputTokens,
        completion_tokens: answer.outputTokens,
        total_tokens: answer.inputTokens + answer.outputTokens,
      },
    });
  }
  response.end("data: [DONE]\n\n");
}

const route = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/;

const embeddingsSchema = z.looseObject({
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
});

/** A deterministic 8-dimension vector per input, with OpenAI's embeddings list shape. */
function embeddings(response: ServerResponse, body: unknown, model: string): void {
  const parsed = embeddingsSchema.safeParse(body);
  if (!parsed.success) {
    sendError(response, 400, "invalid_request_error", "input: must be a string or strings");
    return;
  }
  const inputs = typeof parsed.data.input === "string" ? [parsed.data.input] : parsed.data.input;
  const vector = (text: string) =>
    Array.from({ length: 8 }, (_, i) => (text.charCodeAt(i % text.length) % 17) / 17);
  const tokens = inputs.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
  sendJson(response, 200, {
    object: "list",
    model,
    data: inputs.map((text, index) => ({ object: "embedding", index, embedding: vector(text) })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function handle(apiKey: string, deployments: string[]) {
  return (seen: SeenRequest, response: ServerResponse, fault: Fault | undefined) => {
    const url = new URL(seen.url, "http://localhost");
    const match = route.exec(url.pathname);
    if (seen.method !== "POST" || !match) return sendError(response, 404, "404", "Resource not found");
    const bearer = seen.headers.authorization?.replace(/^Bearer /, "");
    if (seen.headers["api-key"] !== apiKey && bearer !== apiKey) {
      return sendError(
        response,
        401,
        "401",
        "Access denied due to invalid subscription key or wrong API endpoint.",
      );
    }
    const version = url.searchParams.get("api-version");
    if (!version) return sendError(response, 404, "404", "Resource not found");
    if (!azureApiVersions.includes(version))
      return sendError(response, 400, "BadRequest", "API version not supported");
    const deployment = decodeURIComponent(match[1] ?? "");
    if (!deployments.includes(deployment)) {
      return sendError(
        response,
        404,
        "DeploymentNotFound",
        "The API deployment for this resource does not exist.",
      );
    }
    if (match[2] === "embeddings") return embeddings(response, parseObject(seen.body), deployment);
    const parsed = requestSchema.safeParse(parseObject(seen.body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendError(
        response,
        400,
        "invalid_request_error",
        `${issue?.path.join(".") ?? "body"}: ${issue?.message ?? "invalid"}`,
      );
    }
    if (parsed.data.top_logprobs != null && parsed.data.logprobs !== true) {
      return sendError(response, 400, "invalid_request_error", "top_logprobs: requires logprobs to be true");
    }
    if (fault?.kind === "status") {
      const code = fault.status === 429 ? "429" : String(fault.status);
      return sendError(
        response,
        fault.status,
        code,
        fault.status === 429 ? "Requests have exceeded call rate limit." : "injected failure",
      );
    }
    return parsed.data.stream
      ? stream(response, parsed.data, deployment, fault)
      : whole(response, parsed.data, deployment);
  };
}

/** Starts an Azure OpenAI conformance resource with the given deployments. */
export function startAzureOpenAIServer(apiKey: string, deployments: string[]): Promise<ConformanceServer> {
  return startConformanceServer(handle(apiKey, deployments));
}
