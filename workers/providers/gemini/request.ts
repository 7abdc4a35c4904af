import type { ChatCompletionRequest, ChatMessage } from "../../../shared/schemas/chat.ts";
import {
  dataUrl,
  maxTokensOf,
  parseArguments,
  partsOf,
  rejectFields,
  stopList,
  systemText,
} from "../native/openai-shape.ts";
import { ProviderError } from "../openai-compatible/errors.ts";

type Part =
  | { text: string }
  | { inlineData: { mimeType: string; data: string } }
  | { functionCall: { name: string; args: Record<string, unknown> } }
  | { functionResponse: { name: string; response: Record<string, unknown> } };

interface Content {
  role: "user" | "model";
  parts: Part[];
}

/** The generateContent body an OpenAI chat request becomes. */
export interface GenerateContentBody {
  contents: Content[];
  systemInstruction?: { parts: { text: string }[] };
  tools?: {
    functionDeclarations: { name: string; description?: string; parameters?: Record<string, unknown> }[];
  }[];
  toolConfig?: { functionCallingConfig: { mode: "AUTO" | "ANY" | "NONE"; allowedFunctionNames?: string[] } };
  generationConfig: Record<string, unknown>;
}

const rejected = ["logprobs", "top_logprobs", "logit_bias"];

function text(message: ChatMessage): string {
  return partsOf(message)
    .map((p) => (p.type === "text" ? p.text : ""))
    .join("");
}

function userParts(message: ChatMessage): Part[] {
  return partsOf(message).map((part): Part => {
    if (part.type === "text") return { text: part.text };
    const inline = dataUrl(part.image_url.url);
    if (!inline) throw new ProviderError("rejected", "gemini accepts images only as data: URLs", 400);
    return { inlineData: { mimeType: inline.mediaType, data: inline.data } };
  });
}

/** Tool messages name the call by id; Gemini's functionResponse wants the function's name. */
function contentsOf(request: ChatCompletionRequest): Content[] {
  const names = new Map<string, string>();
  const contents: Content[] = [];
  for (const message of request.messages) {
    let content: Content | undefined;
    if (message.role === "user") content = { role: "user", parts: userParts(message) };
    else if (message.role === "assistant") {
      const calls = message.tool_calls ?? [];
      for (const call of calls) names.set(call.id, call.function.name);
      const body = text(message);
      content = {
        role: "model",
        parts: [
          ...(body ? [{ text: body }] : []),
          ...calls.map((c) => ({
            functionCall: { name: c.function.name, args: parseArguments(c.function.arguments, "gemini") },
          })),
        ],
      };
    } else if (message.role === "tool") {
      const name = names.get(message.tool_call_id) ?? message.tool_call_id;
      content = {
        role: "user",
        parts: [{ functionResponse: { name, response: { content: text(message) } } }],
      };
    }
    if (!content) continue;
    const last = contents.at(-1);
    if (last && last.role === content.role) last.parts.push(...content.parts);
    else contents.push(content);
  }
  return contents;
}

function toolConfigOf(request: ChatCompletionRequest): GenerateContentBody["toolConfig"] {
  const choice = request.tool_choice;
  if (choice === undefined || choice === "auto") return undefined;
  if (choice === "none") return { functionCallingConfig: { mode: "NONE" } };
  if (choice === "required") return { functionCallingConfig: { mode: "ANY" } };
  return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.function.name] } };
}

function generationConfigOf(request: ChatCompletionRequest): Record<string, unknown> {
  const format = request.response_format;
  const schema = format?.type === "json_schema" ? format.json_schema.schema : undefined;
  const stop = stopList(request);
  const config: Record<string, unknown> = {
    temperature: request.temperature,
    topP: request.top_p,
    topK: request.top_k !== undefined && request.top_k > 0 ? request.top_k : undefined,
    maxOutputTokens: request.max_completion_tokens ?? request.max_tokens,
    stopSequences: stop,
    candidateCount: request.n,
    seed: request.seed,
    presencePenalty: request.presence_penalty,
    frequencyPenalty: request.frequency_penalty,
    responseMimeType: format && format.type !== "text" ? "application/json" : undefined,
    responseJsonSchema: schema,
  };
  for (const key of Object.keys(config)) if (config[key] === undefined) delete config[key];
  if (maxTokensOf(request, 0) === 0) delete config.maxOutputTokens;
  return config;
}

/**
 * OpenAI chat → generateContent. Documented rules: system/developer messages become
 * `systemInstruction`; assistant turns are role `model`; tool results are `functionResponse` parts;
 * `response_format` json_schema becomes `responseMimeType` + `responseJsonSchema`; images must be
 * `data:` URLs; logprobs and logit_bias are rejected with a 400 naming the field; `metadata`,
 * `user`, min_p and repetition_penalty are dropped.
 */
export function toGenerateContentBody(request: ChatCompletionRequest): GenerateContentBody {
  rejectFields("gemini", request, rejected);
  const system = systemText(request);
  const toolConfig = request.tools?.length ? toolConfigOf(request) : undefined;
  return {
    contents: contentsOf(request),
    ...(system ? { systemInstruction: { parts: [{ text: system }] } } : {}),
    ...(request.tools?.length
      ? {
          tools: [
            {
              functionDeclarations: request.tools.map((t) => ({
                name: t.function.name,
                ...(t.function.description ? { description: t.function.description } : {}),
                ...(t.function.parameters ? { parameters: t.function.parameters } : {}),
              })),
            },
          ],
        }
      : {}),
    ...(toolConfig ? { toolConfig } : {}),
    generationConfig: generationConfigOf(request),
  };
}
