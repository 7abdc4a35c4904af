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
  writeSse,
} from "./server.ts";

/**
 * A local Anthropic Messages API (POST /v1/messages) reproducing the documented wire format: required
 * `x-api-key` and `anthropic-version` headers, the request body schema (strict: unknown fields are a
 * 400), tool_use/tool_result pairing, `{type:"error",error:{type,message},request_id}` error bodies with
 * their documented statuses, a `request-id` header, and the SSE event sequence of a stream.
 */
export const anthropicVersions = ["2023-06-01", "2023-01-01", "2026-10-21"];

/** From API version 2026-10-21 the sampling parameters are removed: sending any is a 400. */
const removedIn20261021 = ["temperature", "top_p", "top_k"];

const text = z.strictObject({
  type: z.literal("text"),
  text: z.string().min(1),
  cache_control: z.unknown().optional(),
});
const image = z.strictObject({
  type: z.literal("image"),
  source: z.union([
    z.strictObject({
      type: z.literal("base64"),
      media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]),
      data: z.string().min(1),
    }),
    z.strictObject({ type: z.literal("url"), url: z.string().url() }),
  ]),
});
const toolUse = z.strictObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
const toolResult = z.strictObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(text)]).optional(),
  is_error: z.boolean().optional(),
});
const block = z.discriminatedUnion("type", [text, image, toolUse, toolResult]);

const requestSchema = z.strictObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z
    .array(
      z.strictObject({
        role: z.enum(["user", "assistant"]),
        content: z.union([z.string(), z.array(block).min(1)]),
      }),
    )
    .min(1),
  system: z.union([z.string(), z.array(text)]).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  metadata: z.strictObject({ user_id: z.string().optional() }).optional(),
  tools: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
        description: z.string().optional(),
        input_schema: z.looseObject({ type: z.literal("object") }),
      }),
    )
    .optional(),
  tool_choice: z
    .strictObject({
      type: z.enum(["auto", "any", "tool", "none"]),
      name: z.string().optional(),
      disable_parallel_tool_use: z.boolean().optional(),
    })
    .optional(),
});
type MessagesRequest = z.infer<typeof requestSchema>;

const errorTypes: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

function sendError(response: ServerResponse, status: number, message: string): void {
  const requestId = `req_${crypto.randomUUID().replaceAll("-", "")}`;
  const headers: Record<string, string> = { "request-id": requestId };
  if (status === 429) headers["retry-after"] = "1";
  sendJson(
    response,
    status,
    { type: "error", error: { type: errorTypes[status] ?? "api_error", message }, request_id: requestId },
    headers,
  );
}

/** The documented semantic rules the schema cannot state: each tool_result answers a tool_use of the turn before. */
function semanticError(request: MessagesRequest): string | undefined {
  for (const [i, message] of request.messages.entries()) {
    if (typeof message.content === "string") continue;
    for (const part of message.content) {
      if (part.type !== "tool_result") continue;
      const previous = request.messages[i - 1];
      const ids =
        previous && typeof previous.content !== "string"
          ? previous.content.flatMap((p) => (p.type === "tool_use" ? [p.id] : []))
          : [];
      if (!ids.includes(part.tool_use_id)) {
        return `messages.${i}: tool_result block(s) provided when previous message does not have a matching tool_use`;
      }
    }
  }
  if (
    request.tool_choice?.type === "tool" &&
    !request.tools?.some((t) => t.name === request.tool_choice?.name)
  ) {
    return "tool_choice.name: the named tool is not in tools";
  }
  return undefined;
}

function textOf(content: MessagesRequest["messages"][number]["content"]): string {
  return typeof content === "string"
    ? content
    : content.map((p) => (p.type === "text" ? p.text : "")).join("");
}

function answerOf(request: MessagesRequest) {
  const last = request.messages.at(-1);
  const lastUser = [...request.messages].reverse().find((m) => m.role === "user" && textOf(m.content));
  const result =
    last && typeof last.content !== "string" ? last.content.find((p) => p.type === "tool_result") : undefined;
  return fakeAnswer({
    lastUserText: lastUser ? textOf(lastUser.content) : "",
    ...(result && result.type === "tool_result"
      ? { lastToolResult: typeof result.content === "string" ? result.content : "" }
      : {}),
    tools: (request.tools ?? []).map((t) => t.name),
    ...(request.tool_choice?.type === "tool" && request.tool_choice.name
      ? { forcedTool: request.tool_choice.name }
      : {}),
    toolsDisabled: request.tool_choice?.type === "none",
    maxTokens: request.max_tokens,
    promptChars:
      JSON.stringify(request.messages).length +
      (typeof request.system === "string" ? request.system.length : 0),
  });
}

function streamAnswer(response: ServerResponse, request: MessagesRequest, fault: Fault | undefined): void {
  const answer = answerOf(request);
  const id = `msg_${crypto.randomUUID().replaceAll("-", "")}`;
  response.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "request-id": `req_${id}`,
  });
  const usage = { input_tokens: answer.inputTokens, output_tokens: 1 };
  writeSse(
    response,
    {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model: request.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage,
      },
    },
    "message_start",
  );
  writeSse(response, { type: "ping" }, "ping");
  let index = 0;
  if (answer.words.length > 0) {
    writeSse(
      response,
      { type: "content_block_start", index, content_block: { type: "text", text: "" } },
      "content_block_start",
    );
    for (const [i, word] of answer.words.entries()) {
      writeSse(
        response,
        { type: "content_block_delta", index, delta: { type: "text_delta", text: word } },
        "content_block_delta",
      );
      if (i === 0 && fault?.kind === "cut") return void response.destroy();
      if (i === 0 && fault?.kind === "mid-stream") {
        writeSse(
          response,
          { type: "error", error: { type: errorTypes[fault.status] ?? "api_error", message: "Overloaded" } },
          "error",
        );
        return void response.end();
      }
    }
    writeSse(response, { type: "content_block_stop", index }, "content_block_stop");
    index++;
  }
  if (answer.toolCall) {
    const json = JSON.stringify(answer.toolCall.input);
    writeSse(
      response,
      {
        type: "content_block_start",
        index,
        content_block: {
          type: "tool_use",
          id: `toolu_${id.slice(4, 20)}`,
          name: answer.toolCall.name,
          input: {},
        },
      },
      "content_block_start",
    );
    for (const piece of [json.slice(0, 5), json.slice(5)]) {
      writeSse(
        response,
        { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } },
        "content_block_delta",
      );
    }
    writeSse(response, { type: "content_block_stop", index }, "content_block_stop");
  }
  const stopReason = answer.toolCall
    ? "tool_use"
    : answer.words.length < request.max_tokens
      ? "end_turn"
      : "max_tokens";
  writeSse(
    response,
    {
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: answer.outputTokens },
    },
    "message_delta",
  );
  writeSse(response, { type: "message_stop" }, "message_stop");
  response.end();
}

function wholeAnswer(response: ServerResponse, request: MessagesRequest): void {
  const answer = answerOf(request);
  const id = `msg_${crypto.randomUUID().replaceAll("-", "")}`;
  const content = [
    ...(answer.words.length > 0 ? [{ type: "text", text: answer.words.join("") }] : []),
    ...(answer.toolCall
      ? [
          {
            type: "tool_use",
            id: `toolu_${id.slice(4, 20)}`,
            name: answer.toolCall.name,
            input: answer.toolCall.input,
          },
        ]
      : []),
  ];
  const stopReason = answer.toolCall
    ? "tool_use"
    : answer.words.length < request.max_tokens
      ? "end_turn"
      : "max_tokens";
  sendJson(
    response,
    200,
    {
      id,
      type: "message",
      role: "assistant",
      model: request.model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: {
        input_tokens: answer.inputTokens,
        output_tokens: answer.outputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    },
    { "request-id": `req_${id}` },
  );
}

function handle(apiKey: string) {
  return (seen: SeenRequest, response: ServerResponse, fault: Fault | undefined) => {
    if (seen.method !== "POST" || seen.url.split("?")[0] !== "/v1/messages")
      return sendError(response, 404, "Not found");
    // The key goes in `x-api-key` or, as the 1.x SDKs send it, `Authorization: Bearer`.
    const bearer = seen.headers.authorization?.replace(/^Bearer /, "");
    if (seen.headers["x-api-key"] !== apiKey && bearer !== apiKey)
      return sendError(response, 401, "invalid x-api-key");
    const version = seen.headers["anthropic-version"];
    if (!version) return sendError(response, 400, "anthropic-version: header is required");
    if (!anthropicVersions.includes(version))
      return sendError(response, 400, `anthropic-version: unknown version ${version}`);
    if (!seen.headers["content-type"]?.startsWith("application/json"))
      return sendError(response, 400, "content-type must be application/json");
    const body = parseObject(seen.body);
    if (!body) return sendError(response, 400, "The request body is not valid JSON.");
    const removed = version === "2026-10-21" ? removedIn20261021.find((field) => field in body) : undefined;
    if (removed)
      return sendError(response, 400, `${removed}: Extra inputs are not permitted in API version ${version}`);
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendError(response, 400, `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
    }
    const semantic = semanticError(parsed.data);
    if (semantic) return sendError(response, 400, semantic);
    if (fault?.kind === "status")
      return sendError(response, fault.status, fault.status === 529 ? "Overloaded" : "injected failure");
    if (parsed.data.stream) return streamAnswer(response, parsed.data, fault);
    return wholeAnswer(response, parsed.data);
  };
}

/** Starts the Anthropic conformance server accepting `apiKey`. */
export function startAnthropicServer(apiKey: string): Promise<ConformanceServer> {
  return startConformanceServer(handle(apiKey));
}
