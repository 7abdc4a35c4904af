import type { ChatCompletionRequest, ChatMessage } from "../../../shared/schemas/chat.ts";
import { enforceFieldRules, FieldRefusal } from "../native/field-rules.ts";
import {
  dataUrl,
  functionCalls,
  functionToolChoice,
  functionTools,
  nativeParts,
  nativeText,
  parseArguments,
  samplingOf,
  stopList,
  systemText,
} from "../native/openai-shape.ts";
import { geminiFields } from "./fields.ts";

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

const provider = "gemini";

function text(message: ChatMessage): string {
  return nativeText(message, provider);
}

function userParts(message: ChatMessage): Part[] {
  return nativeParts(message, provider).map((part): Part => {
    if (part.type === "text") return { text: part.text };
    const inline = dataUrl(part.image_url.url);
    if (!inline) throw new FieldRefusal(provider, "messages[].content[].image_url", " (data: URLs only)");
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
      const calls = functionCalls(message, provider);
      for (const call of calls) names.set(call.id, call.function.name);
      const body = text(message);
      content = {
        role: "model",
        parts: [
          ...(body ? [{ text: body }] : []),
          ...calls.map((c) => ({
            functionCall: { name: c.function.name, args: parseArguments(c.function.arguments, provider) },
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
  const choice = functionToolChoice(request, provider);
  if (choice === undefined || choice === "auto") return undefined;
  if (choice === "none") return { functionCallingConfig: { mode: "NONE" } };
  if (choice === "required") return { functionCallingConfig: { mode: "ANY" } };
  return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.name] } };
}

function generationConfigOf(request: ChatCompletionRequest): Record<string, unknown> {
  const format = request.response_format;
  const schema = format?.type === "json_schema" ? format.json_schema.schema : undefined;
  const stop = stopList(request);
  const sampling = samplingOf(request);
  const config: Record<string, unknown> = {
    temperature: sampling.temperature,
    topP: sampling.topP,
    topK: sampling.topK,
    maxOutputTokens: sampling.maxTokens,
    stopSequences: stop,
    candidateCount: sampling.n,
    seed: sampling.seed,
    presencePenalty: sampling.presencePenalty,
    frequencyPenalty: sampling.frequencyPenalty,
    responseMimeType: format && format.type !== "text" ? "application/json" : undefined,
    responseJsonSchema: schema,
  };
  for (const key of Object.keys(config)) if (config[key] === undefined) delete config[key];
  if (sampling.maxTokens === 0) delete config.maxOutputTokens;
  return config;
}

/**
 * OpenAI chat → generateContent. Documented rules: system/developer messages become
 * `systemInstruction`; assistant turns are role `model`; tool results are `functionResponse` parts;
 * `response_format` json_schema becomes `responseMimeType` + `responseJsonSchema`; images must be
 * `data:` URLs. Which fields pass, are dropped or refused (a {@link FieldRefusal}) is the table in
 * `fields.ts` (`n` > 1 only when not streamed).
 */
export function toGenerateContentBody(request: ChatCompletionRequest, stream = false): GenerateContentBody {
  enforceFieldRules({ provider, table: geminiFields, request, stream });
  const system = systemText(request);
  const declarations = functionTools(request, provider);
  const toolConfig = declarations.length ? toolConfigOf(request) : undefined;
  return {
    contents: contentsOf(request),
    ...(system ? { systemInstruction: { parts: [{ text: system }] } } : {}),
    ...(declarations.length
      ? {
          tools: [
            {
              functionDeclarations: declarations.map((t) => ({
                name: t.name,
                ...(t.description ? { description: t.description } : {}),
                ...(t.parameters ? { parameters: t.parameters } : {}),
              })),
            },
          ],
        }
      : {}),
    ...(toolConfig ? { toolConfig } : {}),
    generationConfig: generationConfigOf(request),
  };
}
