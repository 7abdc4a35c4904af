import type {
  ChatCompletionRequest,
  ChatCompletionResponse,
  ChatMessage,
} from "../../../shared/schemas/chat.ts";
import { ProviderError } from "../openai-compatible/errors.ts";
import type { ChatChunk, ToolCallDelta } from "../types.ts";
import { FieldRefusal } from "./field-rules.ts";

/** A complete tool call in OpenAI's shape (arguments are JSON text). */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** Token counts every adapter reports, in OpenAI's names. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

/** A chat completion as the native adapters produce it: OpenAI's shape with tool calls. */
export interface NativeCompletion extends ChatCompletionResponse {
  choices: {
    index: number;
    message: { role: "assistant"; content: string | null; tool_calls?: ToolCall[] };
    finish_reason: string | null;
  }[];
  usage: Usage;
}

/** The content parts of a message (a string becomes one text part). */
export type ContentPart = Exclude<ChatMessage["content"], string | null | undefined>[number];

/** A message's content as parts (a string is one text part; none is no parts). */
export function partsOf(message: ChatMessage): ContentPart[] {
  const content = message.content;
  if (content === undefined || content === null) return [];
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

/** A content part every native adapter translates: text, or an image by URL. */
export type NativePart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

/**
 * A message's content as text and image parts: a `refusal` part becomes text; `input_audio` and `file`
 * parts have no native equivalent here and are a 400 naming the part type and the provider.
 */
export function nativeParts(message: ChatMessage, provider: string): NativePart[] {
  return partsOf(message).map((part): NativePart => {
    switch (part.type) {
      case "text":
      case "image_url":
        return part;
      case "refusal":
        return { type: "text", text: part.refusal };
      default:
        throw unsupported(provider, `messages[].content[].${part.type}`);
    }
  });
}

/** The text of a message's parts, joined (images contribute nothing; audio and file parts are a 400). */
export function nativeText(message: ChatMessage, provider: string): string {
  return nativeParts(message, provider)
    .map((p) => (p.type === "text" ? p.text : ""))
    .join("");
}

type RequestTool = NonNullable<ChatCompletionRequest["tools"]>[number];
/** A function tool's definition (name, description, JSON-schema parameters). */
export type FunctionDefinition = Extract<RequestTool, { type: "function" }>["function"];

/** An assistant message's tool calls, all function calls: a custom tool call is a 400. */
export function functionCalls(message: ChatMessage, provider: string): ToolCall[] {
  if (message.role !== "assistant") return [];
  return (message.tool_calls ?? []).map((call) => {
    if (call.type !== "function") throw unsupported(provider, "messages[].tool_calls[].custom");
    return call;
  });
}

/** The request's tools as function definitions: a custom tool is a 400. */
export function functionTools(request: ChatCompletionRequest, provider: string): FunctionDefinition[] {
  return (request.tools ?? []).map((tool) => {
    if (tool.type !== "function") throw unsupported(provider, "tools[].custom");
    return tool.function;
  });
}

/** A tool choice the native adapters translate: a mode, or one function by name. */
export type FunctionToolChoice = "none" | "auto" | "required" | { name: string };

/** The request's tool choice over function tools: `custom` and `allowed_tools` choices are a 400. */
export function functionToolChoice(
  request: ChatCompletionRequest,
  provider: string,
): FunctionToolChoice | undefined {
  const choice = request.tool_choice;
  if (choice === undefined || typeof choice === "string") return choice;
  if (choice.type !== "function") throw unsupported(provider, `tool_choice.${choice.type}`);
  return { name: choice.function.name };
}

/** The numeric sampling fields with `null` read as absent (`topK` only when positive, as vLLM does). */
export interface Sampling {
  temperature: number | undefined;
  topP: number | undefined;
  topK: number | undefined;
  maxTokens: number | undefined;
  n: number | undefined;
  seed: number | undefined;
  presencePenalty: number | undefined;
  frequencyPenalty: number | undefined;
}

/** The request's sampling fields, `null` read as absent. */
export function samplingOf(request: ChatCompletionRequest): Sampling {
  return {
    temperature: request.temperature ?? undefined,
    topP: request.top_p ?? undefined,
    topK: request.top_k !== undefined && request.top_k > 0 ? request.top_k : undefined,
    maxTokens: request.max_completion_tokens ?? request.max_tokens ?? undefined,
    n: request.n ?? undefined,
    seed: request.seed ?? undefined,
    presencePenalty: request.presence_penalty ?? undefined,
    frequencyPenalty: request.frequency_penalty ?? undefined,
  };
}

/** A `data:` URL split into media type and base64 data; undefined for any other URL. */
export function dataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return match ? { mediaType: match[1] ?? "", data: match[2] ?? "" } : undefined;
}

/** The system and developer messages, joined: every native API takes them apart from the turns. */
export function systemText(request: ChatCompletionRequest): string {
  return request.messages
    .filter((m) => m.role === "system" || m.role === "developer")
    .map((m) =>
      partsOf(m)
        .map((p) => (p.type === "text" ? p.text : ""))
        .join(""),
    )
    .join("\n\n");
}

/** Parses tool-call arguments; text that is not a JSON object is the caller's error (a 400). */
export function parseArguments(text: string, where: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text || "{}");
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ProviderError("rejected", `${where}: tool call arguments must be a JSON object`, 400);
}

/**
 * A field this provider cannot honour, found before any network call: routing moves on to an endpoint
 * that can, and the client gets a 400 naming it only when none can.
 */
export function unsupported(provider: string, field: string): FieldRefusal {
  return new FieldRefusal(provider, field);
}

/** The maximum output tokens the client asked for, or `fallback`. */
export function maxTokensOf(request: ChatCompletionRequest, fallback: number): number {
  return request.max_completion_tokens ?? request.max_tokens ?? fallback;
}

/** Stop sequences as a list. */
export function stopList(request: ChatCompletionRequest): string[] | undefined {
  if (request.stop === undefined || request.stop === null) return undefined;
  return typeof request.stop === "string" ? [request.stop] : request.stop;
}

/** Builds chunks of one stream with a shared head (id, created, model). */
export function chunkMaker(id: string, model: string) {
  const created = Math.floor(Date.now() / 1000);
  const head = { id, object: "chat.completion.chunk", created, model };
  return {
    delta(delta: { role?: string; content?: string; tool_calls?: ToolCallDelta[] }): ChatChunk {
      return { ...head, choices: [{ index: 0, delta, finish_reason: null }] };
    },
    finish(reason: string): ChatChunk {
      return { ...head, choices: [{ index: 0, delta: {}, finish_reason: reason }] };
    },
    usage(usage: Usage): ChatChunk {
      return { ...head, choices: [], usage };
    },
  };
}

/** A complete completion in OpenAI's shape. */
export function completionOf(parts: {
  id: string;
  model: string;
  text: string;
  toolCalls: ToolCall[];
  finishReason: string;
  usage: Usage;
}): NativeCompletion {
  return {
    id: parts.id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: parts.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: parts.text.length > 0 || parts.toolCalls.length === 0 ? parts.text : null,
          ...(parts.toolCalls.length > 0 ? { tool_calls: parts.toolCalls } : {}),
        },
        finish_reason: parts.finishReason,
      },
    ],
    usage: parts.usage,
  };
}
