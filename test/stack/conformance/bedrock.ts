import type { ServerResponse } from "node:http";
import { crc32 } from "node:zlib";
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
import { type Credentials, verifySigV4 } from "./sigv4.ts";

/**
 * A local Bedrock Runtime reproducing the documented Converse wire format: `POST /model/{modelId}/converse`
 * and `/converse-stream`, SigV4 (service `bedrock`) verified from first principles, a strict body
 * (unknown fields, a conversation not starting with a user turn, non-alternating roles or a toolResult
 * without its toolUse are a 400 ValidationException), errors as `{message}` with `x-amzn-ErrorType`,
 * and ConverseStream as `application/vnd.amazon.eventstream` binary frames with CRCs, `:event-type`,
 * `:message-type` and in-stream exceptions.
 */
const block = z
  .strictObject({
    text: z.string().optional(),
    image: z
      .strictObject({
        format: z.enum(["png", "jpeg", "gif", "webp"]),
        source: z.strictObject({ bytes: z.string().min(1) }),
      })
      .optional(),
    toolUse: z
      .strictObject({
        toolUseId: z.string().min(1),
        name: z.string().min(1),
        input: z.record(z.string(), z.unknown()),
      })
      .optional(),
    toolResult: z
      .strictObject({
        toolUseId: z.string().min(1),
        content: z
          .array(z.strictObject({ text: z.string().optional(), json: z.unknown().optional() }))
          .min(1),
        status: z.enum(["success", "error"]).optional(),
      })
      .optional(),
  })
  .refine((b) => Object.keys(b).length === 1, { message: "a content block must set exactly one member" });

const requestSchema = z.strictObject({
  messages: z
    .array(z.strictObject({ role: z.enum(["user", "assistant"]), content: z.array(block).min(1) }))
    .min(1),
  system: z.array(z.strictObject({ text: z.string().min(1) })).optional(),
  inferenceConfig: z
    .strictObject({
      maxTokens: z.number().int().min(1).optional(),
      temperature: z.number().min(0).max(1).optional(),
      topP: z.number().min(0).max(1).optional(),
      stopSequences: z.array(z.string()).max(4).optional(),
    })
    .optional(),
  toolConfig: z
    .strictObject({
      tools: z
        .array(
          z.strictObject({
            toolSpec: z.strictObject({
              name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
              description: z.string().optional(),
              inputSchema: z.strictObject({ json: z.record(z.string(), z.unknown()) }),
            }),
          }),
        )
        .min(1),
      toolChoice: z
        .union([
          z.strictObject({ auto: z.strictObject({}) }),
          z.strictObject({ any: z.strictObject({}) }),
          z.strictObject({ tool: z.strictObject({ name: z.string() }) }),
        ])
        .optional(),
    })
    .optional(),
  additionalModelRequestFields: z.record(z.string(), z.unknown()).optional(),
});
type ConverseRequest = z.infer<typeof requestSchema>;

const errorStatus: Record<string, number> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  MissingAuthenticationTokenException: 403,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
};
const typeOfStatus: Record<number, string> = {
  400: "ValidationException",
  429: "ThrottlingException",
  500: "InternalServerException",
  503: "ServiceUnavailableException",
};

function sendError(response: ServerResponse, type: string, message: string): void {
  sendJson(
    response,
    errorStatus[type] ?? 500,
    { message },
    {
      "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      "x-amzn-requestid": crypto.randomUUID(),
    },
  );
}

function semanticError(request: ConverseRequest): string | undefined {
  if (request.messages[0]?.role !== "user") return "A conversation must start with a user message.";
  for (const [i, message] of request.messages.entries()) {
    if (i > 0 && request.messages[i - 1]?.role === message.role)
      return "A conversation must alternate between user and assistant roles.";
    const uses = (request.messages[i - 1]?.content ?? []).flatMap((b) =>
      b.toolUse ? [b.toolUse.toolUseId] : [],
    );
    for (const b of message.content) {
      if (b.toolResult && !uses.includes(b.toolResult.toolUseId))
        return `messages.${i}: toolResult without a matching toolUse in the previous turn.`;
      if ((b.toolUse || b.toolResult) && !request.toolConfig)
        return "toolConfig must be defined when the conversation uses tools.";
    }
  }
  return undefined;
}

function answerOf(request: ConverseRequest) {
  const text = (blocks: ConverseRequest["messages"][number]["content"]) =>
    blocks.map((b) => b.text ?? "").join("");
  const lastUser = [...request.messages].reverse().find((m) => m.role === "user" && text(m.content));
  const result = request.messages.at(-1)?.content.find((b) => b.toolResult)?.toolResult;
  const choice = request.toolConfig?.toolChoice;
  return fakeAnswer({
    lastUserText: lastUser ? text(lastUser.content) : "",
    ...(result ? { lastToolResult: result.content.map((c) => c.text ?? "").join("") } : {}),
    tools: (request.toolConfig?.tools ?? []).map((t) => t.toolSpec.name),
    ...(choice && "tool" in choice ? { forcedTool: choice.tool.name } : {}),
    toolsDisabled: false,
    maxTokens: request.inferenceConfig?.maxTokens ?? 4096,
    promptChars: JSON.stringify(request.messages).length,
  });
}

/** One event-stream frame: prelude (lengths + CRC), string headers, payload, message CRC. */
export function encodeFrame(headers: Record<string, string>, payload: unknown): Buffer {
  const headerBytes = Buffer.concat(
    Object.entries(headers).map(([name, value]) => {
      const n = Buffer.from(name, "utf8");
      const v = Buffer.from(value, "utf8");
      const head = Buffer.alloc(1 + n.length + 3);
      head.writeUInt8(n.length, 0);
      n.copy(head, 1);
      head.writeUInt8(7, 1 + n.length);
      head.writeUInt16BE(v.length, 2 + n.length);
      return Buffer.concat([head, v]);
    }),
  );
  const body = Buffer.from(JSON.stringify(payload), "utf8");
  const total = 12 + headerBytes.length + body.length + 4;
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headerBytes.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const message = Buffer.concat([prelude, headerBytes, body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(message), 0);
  return Buffer.concat([message, crc]);
}

const event = (type: string, payload: Record<string, unknown>) =>
  encodeFrame(
    { ":event-type": type, ":content-type": "application/json", ":message-type": "event" },
    { ...payload, p: "abcdefgh" },
  );

function stream(response: ServerResponse, request: ConverseRequest, fault: Fault | undefined): void {
  const answer = answerOf(request);
  response.writeHead(200, {
    "content-type": "application/vnd.amazon.eventstream",
    "x-amzn-requestid": crypto.randomUUID(),
  });
  response.write(event("messageStart", { role: "assistant" }));
  if (answer.words.length > 0) {
    for (const [i, word] of answer.words.entries()) {
      const frame = event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: word } });
      if (i === 1 && fault?.kind === "cut") {
        response.write(frame.subarray(0, 10));
        return void response.destroy();
      }
      response.write(frame);
      if (i === 0 && fault?.kind === "mid-stream") {
        const type = fault.status === 429 ? "throttlingException" : "internalServerException";
        return void response.end(
          encodeFrame(
            { ":exception-type": type, ":content-type": "application/json", ":message-type": "exception" },
            { message: "injected" },
          ),
        );
      }
    }
    response.write(event("contentBlockStop", { contentBlockIndex: 0 }));
  }
  if (answer.toolCall) {
    const index = answer.words.length > 0 ? 1 : 0;
    const json = JSON.stringify(answer.toolCall.input);
    response.write(
      event("contentBlockStart", {
        contentBlockIndex: index,
        start: {
          toolUse: { toolUseId: `tooluse_${crypto.randomUUID().slice(0, 8)}`, name: answer.toolCall.name },
        },
      }),
    );
    for (const piece of [json.slice(0, 4), json.slice(4)])
      response.write(
        event("contentBlockDelta", { contentBlockIndex: index, delta: { toolUse: { input: piece } } }),
      );
    response.write(event("contentBlockStop", { contentBlockIndex: index }));
  }
  response.write(event("messageStop", { stopReason: answer.toolCall ? "tool_use" : "end_turn" }));
  response.end(
    event("metadata", {
      usage: {
        inputTokens: answer.inputTokens,
        outputTokens: answer.outputTokens,
        totalTokens: answer.inputTokens + answer.outputTokens,
      },
      metrics: { latencyMs: 1 },
    }),
  );
}

function whole(response: ServerResponse, request: ConverseRequest): void {
  const answer = answerOf(request);
  const content = [
    ...(answer.words.length > 0 ? [{ text: answer.words.join("") }] : []),
    ...(answer.toolCall
      ? [
          {
            toolUse: {
              toolUseId: `tooluse_${crypto.randomUUID().slice(0, 8)}`,
              name: answer.toolCall.name,
              input: answer.toolCall.input,
            },
          },
        ]
      : []),
  ];
  sendJson(response, 200, {
    output: { message: { role: "assistant", content } },
    stopReason: answer.toolCall ? "tool_use" : "end_turn",
    usage: {
      inputTokens: answer.inputTokens,
      outputTokens: answer.outputTokens,
      totalTokens: answer.inputTokens + answer.outputTokens,
    },
    metrics: { latencyMs: 1 },
  });
}

const route = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

function handle(options: { credentials: Credentials; region: string; models: string[] }) {
  return (seen: SeenRequest, response: ServerResponse, fault: Fault | undefined) => {
    const url = new URL(seen.url, "http://localhost");
    const match = route.exec(url.pathname);
    if (seen.method !== "POST" || !match)
      return sendError(response, "ResourceNotFoundException", "Unknown operation");
    const auth = verifySigV4(seen, {
      credentials: options.credentials,
      service: "bedrock",
      region: options.region,
    });
    if (auth) return sendError(response, auth.type, auth.message);
    const model = decodeURIComponent(match[1] ?? "");
    if (!options.models.includes(model))
      return sendError(response, "ResourceNotFoundException", `Model ${model} not found.`);
    const parsed = requestSchema.safeParse(parseObject(seen.body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendError(
        response,
        "ValidationException",
        `1 validation error detected: ${issue?.path.join(".") ?? "body"}: ${issue?.message ?? "invalid"}`,
      );
    }
    const semantic = semanticError(parsed.data);
    if (semantic) return sendError(response, "ValidationException", semantic);
    if (fault?.kind === "status")
      return sendError(response, typeOfStatus[fault.status] ?? "InternalServerException", "injected failure");
    return match[2] === "converse-stream"
      ? stream(response, parsed.data, fault)
      : whole(response, parsed.data);
  };
}

/** Starts the Bedrock conformance server for the given credentials, region and model ids. */
export function startBedrockServer(options: {
  credentials: Credentials;
  region: string;
  models: string[];
}): Promise<ConformanceServer> {
  return startConformanceServer(handle(options));
}
