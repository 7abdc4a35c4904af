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
 * A local Gemini API (Generative Language, v1beta and v1) reproducing the documented wire format:
 * `POST /{version}/models/{model}:generateContent` and `:streamGenerateContent` (`alt=sse` gives SSE,
 * without it a JSON array), the API key in `x-goog-api-key` or `?key=`, a strict camelCase body
 * (an unknown field is a 400 naming it), role `user`/`model`, parts with exactly one data field,
 * google.rpc.Status error bodies `{error:{code,message,status}}` with their documented statuses.
 */
const part = z
  .strictObject({
    text: z.string().optional(),
    inlineData: z.strictObject({ mimeType: z.string().min(1), data: z.string().min(1) }).optional(),
    fileData: z.strictObject({ mimeType: z.string().optional(), fileUri: z.string().min(1) }).optional(),
    functionCall: z
      .strictObject({
        id: z.string().optional(),
        name: z.string().min(1),
        args: z.record(z.string(), z.unknown()).optional(),
      })
      .optional(),
    functionResponse: z
      .strictObject({
        id: z.string().optional(),
        name: z.string().min(1),
        response: z.record(z.string(), z.unknown()),
      })
      .optional(),
    thought: z.boolean().optional(),
    thoughtSignature: z.string().optional(),
  })
  .refine(
    (p) =>
      ["text", "inlineData", "fileData", "functionCall", "functionResponse"].filter((k) => k in p).length ===
      1,
    {
      message: "a part must set exactly one data field",
    },
  );

const content = z.strictObject({ role: z.enum(["user", "model"]).optional(), parts: z.array(part).min(1) });

const requestSchema = z.strictObject({
  contents: z.array(content).min(1),
  systemInstruction: z.strictObject({ role: z.string().optional(), parts: z.array(part).min(1) }).optional(),
  tools: z
    .array(
      z.strictObject({
        functionDeclarations: z
          .array(
            z.strictObject({
              name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/),
              description: z.string().optional(),
              parameters: z.record(z.string(), z.unknown()).optional(),
              parametersJsonSchema: z.unknown().optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
  toolConfig: z
    .strictObject({
      functionCallingConfig: z.strictObject({
        mode: z.enum(["AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"]).optional(),
        allowedFunctionNames: z.array(z.string()).optional(),
      }),
    })
    .optional(),
  safetySettings: z.array(z.strictObject({ category: z.string(), threshold: z.string() })).optional(),
  generationConfig: z
    .strictObject({
      temperature: z.number().min(0).max(2).optional(),
      topP: z.number().min(0).max(1).optional(),
      topK: z.number().int().min(1).optional(),
      maxOutputTokens: z.number().int().min(1).optional(),
      stopSequences: z.array(z.string()).max(5).optional(),
      candidateCount: z.number().int().min(1).max(8).optional(),
      seed: z.number().int().optional(),
      presencePenalty: z.number().optional(),
      frequencyPenalty: z.number().optional(),
      responseMimeType: z.enum(["text/plain", "application/json", "text/x.enum"]).optional(),
      responseSchema: z.unknown().optional(),
      responseJsonSchema: z.unknown().optional(),
    })
    .optional(),
});
type GenerateRequest = z.infer<typeof requestSchema>;

const statusNames: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

function rpcError(status: number, message: string) {
  return { error: { code: status, message, status: statusNames[status] ?? "UNKNOWN" } };
}

function sendError(response: ServerResponse, status: number, message: string): void {
  sendJson(response, status, rpcError(status, message));
}

type Part = z.infer<typeof part>;
const textOf = (parts: Part[]) => parts.map((p) => p.text ?? "").join("");

function answerOf(request: GenerateRequest) {
  const last = request.contents.at(-1);
  const lastUser = [...request.contents].reverse().find((c) => c.role !== "model" && textOf(c.parts));
  const result = last?.parts.find((p) => p.functionResponse)?.functionResponse;
  const calling = request.toolConfig?.functionCallingConfig;
  const forced = calling?.allowedFunctionNames?.[0];
  return fakeAnswer({
    lastUserText: lastUser ? textOf(lastUser.parts) : "",
    ...(result ? { lastToolResult: String(result.response.content ?? JSON.stringify(result.response)) } : {}),
    tools: (request.tools ?? []).flatMap((t) => (t.functionDeclarations ?? []).map((f) => f.name)),
    ...(forced ? { forcedTool: forced } : {}),
    toolsDisabled: calling?.mode === "NONE",
    maxTokens: request.generationConfig?.maxOutputTokens ?? 8192,
    promptChars: JSON.stringify(request.contents).length,
  });
}

function usageOf(answer: ReturnType<typeof answerOf>) {
  return {
    promptTokenCount: answer.inputTokens,
    candidatesTokenCount: answer.outputTokens,
    totalTokenCount: answer.inputTokens + answer.outputTokens,
  };
}

function finishOf(answer: ReturnType<typeof answerOf>, request: GenerateRequest): string {
  const max = request.generationConfig?.maxOutputTokens;
  return max !== undefined && answer.words.length >= max && !answer.toolCall ? "MAX_TOKENS" : "STOP";
}

function wholeAnswer(request: GenerateRequest, model: string) {
  const answer = answerOf(request);
  const count = request.generationConfig?.candidateCount ?? 1;
  const parts = answer.toolCall
    ? [{ functionCall: { name: answer.toolCall.name, args: answer.toolCall.input } }]
    : [{ text: answer.words.join("") }];
  return {
    candidates: Array.from({ length: count }, (_, index) => ({
      content: { role: "model", parts },
      finishReason: finishOf(answer, request),
      index,
    })),
    usageMetadata: usageOf(answer),
    modelVersion: model,
    responseId: crypto.randomUUID().replaceAll("-", "").slice(0, 22),
  };
}

/** The stream's events: one per word, the last with finishReason and usage (tool calls come whole). */
function streamEvents(request: GenerateRequest, model: string): Record<string, unknown>[] {
  const answer = answerOf(request);
  const responseId = crypto.randomUUID().replaceAll("-", "").slice(0, 22);
  const pieces = answer.toolCall
    ? [[{ functionCall: { name: answer.toolCall.name, args: answer.toolCall.input } }]]
    : answer.words.map((w) => [{ text: w }]);
  return pieces.map((parts, i) => {
    const last = i === pieces.length - 1;
    return {
      candidates: [
        {
          content: { role: "model", parts },
          ...(last ? { finishReason: finishOf(answer, request) } : {}),
          index: 0,
        },
      ],
      usageMetadata: last
        ? usageOf(answer)
        : { promptTokenCount: answer.inputTokens, totalTokenCount: answer.inputTokens },
      modelVersion: model,
      responseId,
    };
  });
}

function stream(
  response: ServerResponse,
  request: GenerateRequest,
  model: string,
  sse: boolean,
  fault: Fault | undefined,
): void {
  const events = streamEvents(request, model);
  if (!sse) {
    sendJson(response, 200, events);
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream" });
  for (const [i, event] of events.entries()) {
    writeSse(response, event, undefined, "\r\n");
    if (i === 0 && fault?.kind === "cut") return void response.destroy();
    if (i === 0 && fault?.kind === "mid-stream") {
      writeSse(response, rpcError(fault.status, "The model is overloaded."), undefined, "\r\n");
      return void response.end();
    }
  }
  response.end();
}

const route = /^\/(v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

function handle(apiKey: string) {
  return (seen: SeenRequest, response: ServerResponse, fault: Fault | undefined) => {
    const url = new URL(seen.url, "http://localhost");
    const match = route.exec(url.pathname);
    if (seen.method !== "POST" || !match)
      return sendError(response, 404, `Method not found: ${url.pathname}`);
    const key = seen.headers["x-goog-api-key"] ?? url.searchParams.get("key");
    if (!key)
      return sendError(response, 403, "Method doesn't allow unregistered callers. Please use API Key.");
    if (key !== apiKey) return sendError(response, 400, "API key not valid. Please pass a valid API key.");
    const body = parseObject(seen.body);
    if (!body) return sendError(response, 400, "Invalid JSON payload received.");
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const unknown =
        issue?.code === "unrecognized_keys" ? `Unknown name "${issue.keys[0]}"` : issue?.message;
      return sendError(
        response,
        400,
        `Invalid JSON payload received. ${issue?.path.join(".") ?? ""}: ${unknown}`,
      );
    }
    if (fault?.kind === "status") {
      return sendError(
        response,
        fault.status,
        fault.status === 429 ? "Resource has been exhausted (e.g. check quota)." : "injected failure",
      );
    }
    const model = decodeURIComponent(match[2] ?? "");
    if (match[3] === "streamGenerateContent")
      return stream(response, parsed.data, model, url.searchParams.get("alt") === "sse", fault);
    return sendJson(response, 200, wholeAnswer(parsed.data, model));
  };
}

/** Starts the Gemini conformance server accepting `apiKey`. */
export function startGeminiServer(apiKey: string): Promise<ConformanceServer> {
  return startConformanceServer(handle(apiKey));
}
