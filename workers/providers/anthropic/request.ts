import type { ChatCompletionRequest, ChatMessage } from "../../../shared/schemas/chat.ts";
import { enforceFieldRules, FieldRefusal } from "../native/field-rules.ts";
import {
  dataUrl,
  functionCalls,
  functionToolChoice,
  functionTools,
  maxTokensOf,
  nativeParts,
  nativeText,
  parseArguments,
  samplingOf,
  stopList,
  systemText,
} from "../native/openai-shape.ts";
import { anthropicProvider } from "./endpoint.ts";
import { anthropicFieldsFor } from "./fields.ts";

type Block =
  | { type: "text"; text: string }
  | {
      type: "image";
      source: { type: "base64"; media_type: string; data: string } | { type: "url"; url: string };
    }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | { type: "tool_result"; tool_use_id: string; content: string };

interface Turn {
  role: "user" | "assistant";
  content: Block[];
}

/** The Messages request body an OpenAI chat request becomes. */
export interface MessagesBody {
  model: string;
  max_tokens: number;
  messages: Turn[];
  system?: string;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  stream?: boolean;
  tools?: { name: string; description?: string; input_schema: Record<string, unknown> }[];
  tool_choice?: {
    type: "auto" | "any" | "none" | "tool";
    name?: string;
    disable_parallel_tool_use?: boolean;
  };
  metadata?: { user_id: string };
}

const provider = "anthropic";

const mediaTypes = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

function userBlocks(message: ChatMessage): Block[] {
  return nativeParts(message, provider).map((part): Block => {
    if (part.type === "text") return { type: "text", text: part.text };
    const inline = dataUrl(part.image_url.url);
    if (inline && !mediaTypes.has(inline.mediaType)) {
      throw new FieldRefusal(provider, "messages[].content[].image_url", " (jpeg/png/gif/webp only)");
    }
    return inline
      ? { type: "image", source: { type: "base64", media_type: inline.mediaType, data: inline.data } }
      : { type: "image", source: { type: "url", url: part.image_url.url } };
  });
}

function turnOf(message: ChatMessage): Turn | undefined {
  switch (message.role) {
    case "system":
    case "developer":
      return undefined;
    case "user":
      return { role: "user", content: userBlocks(message) };
    case "tool":
      return {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: message.tool_call_id,
            content: nativeText(message, provider),
          },
        ],
      };
    case "assistant": {
      const text = nativeText(message, provider);
      const calls = functionCalls(message, provider).map(
        (call): Block => ({
          type: "tool_use",
          id: call.id,
          name: call.function.name,
          input: parseArguments(call.function.arguments, "anthropic"),
        }),
      );
      return { role: "assistant", content: [...(text ? [{ type: "text" as const, text }] : []), ...calls] };
    }
  }
}

/** Consecutive turns of one role merge: tool results of one assistant turn go back in one user turn. */
function mergeTurns(turns: Turn[]): Turn[] {
  const merged: Turn[] = [];
  for (const turn of turns) {
    const last = merged.at(-1);
    if (last && last.role === turn.role) last.content.push(...turn.content);
    else merged.push({ role: turn.role, content: [...turn.content] });
  }
  return merged;
}

function toolChoiceOf(request: ChatCompletionRequest): MessagesBody["tool_choice"] {
  const choice = functionToolChoice(request, provider);
  const parallel = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined)
    return request.parallel_tool_calls === false ? { type: "auto", ...parallel } : undefined;
  if (choice === "none") return { type: "none" };
  if (choice === "auto") return { type: "auto", ...parallel };
  if (choice === "required") return { type: "any", ...parallel };
  return { type: "tool", name: choice.name, ...parallel };
}

/**
 * OpenAI chat → Messages. system/developer messages become `system`; tool messages become
 * `tool_result` blocks; `temperature` above 1 is capped at 1 (Messages' range); a refusal part is text.
 * Which fields pass, are dropped or refused (a {@link FieldRefusal}) is the table in `fields.ts`; with
 * `anthropic-version` 2026-10-21 or later it drops temperature, top_p and top_k.
 */
export function toMessagesBody(
  request: ChatCompletionRequest,
  model: string,
  options: { stream: boolean; apiVersion: string },
): MessagesBody {
  const { stream } = options;
  const table = anthropicFieldsFor(options.apiVersion);
  enforceFieldRules({ provider, table, request, stream });
  const sampling = table.temperature === "pass";
  const system = systemText(request);
  const stop = stopList(request);
  const tools = functionTools(request, provider);
  const toolChoice = tools.length ? toolChoiceOf(request) : undefined;
  const { temperature, topP, topK } = samplingOf(request);
  return {
    model,
    max_tokens: maxTokensOf(request, anthropicProvider.defaultMaxTokens),
    messages: mergeTurns(request.messages.map(turnOf).filter((t): t is Turn => t !== undefined)),
    ...(system ? { system } : {}),
    ...(sampling && temperature !== undefined ? { temperature: Math.min(temperature, 1) } : {}),
    ...(sampling && topP !== undefined ? { top_p: topP } : {}),
    ...(sampling && topK !== undefined ? { top_k: topK } : {}),
    ...(stop ? { stop_sequences: stop } : {}),
    ...(stream ? { stream: true } : {}),
    ...(tools.length
      ? {
          tools: tools.map((t) => ({
            name: t.name,
            ...(t.description ? { description: t.description } : {}),
            input_schema: t.parameters ?? { type: "object", properties: {} },
          })),
        }
      : {}),
    ...(toolChoice ? { tool_choice: toolChoice } : {}),
    ...(request.user ? { metadata: { user_id: request.user } } : {}),
  };
}
