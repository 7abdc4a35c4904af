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
import { bedrockFields } from "./fields.ts";

type Block =
  | { text: string }
  | { image: { format: string; source: { bytes: string } } }
  | { toolUse: { toolUseId: string; name: string; input: Record<string, unknown> } }
  | { toolResult: { toolUseId: string; content: { text: string }[] } };

interface Turn {
  role: "user" | "assistant";
  content: Block[];
}

/** The Converse request body an OpenAI chat request becomes. */
export interface ConverseBody {
  messages: Turn[];
  system?: { text: string }[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: {
    tools: {
      toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> } };
    }[];
    toolChoice?:
      | { auto: Record<string, never> }
      | { any: Record<string, never> }
      | { tool: { name: string } };
  };
  additionalModelRequestFields?: Record<string, unknown>;
}

const provider = "bedrock";
const imageFormats = new Set(["png", "jpeg", "gif", "webp"]);

function text(message: ChatMessage): string {
  return nativeText(message, provider);
}

function userBlocks(message: ChatMessage): Block[] {
  return nativeParts(message, provider).map((part): Block => {
    if (part.type === "text") return { text: part.text };
    const inline = dataUrl(part.image_url.url);
    const format = inline?.mediaType.replace(/^image\//, "").replace("jpg", "jpeg");
    if (!inline || !format || !imageFormats.has(format)) {
      throw new FieldRefusal(
        provider,
        "messages[].content[].image_url",
        " (png/jpeg/gif/webp data: URLs only)",
      );
    }
    return { image: { format, source: { bytes: inline.data } } };
  });
}

function turnOf(message: ChatMessage): Turn | undefined {
  if (message.role === "user") return { role: "user", content: userBlocks(message) };
  if (message.role === "tool") {
    return {
      role: "user",
      content: [{ toolResult: { toolUseId: message.tool_call_id, content: [{ text: text(message) }] } }],
    };
  }
  if (message.role !== "assistant") return undefined;
  const body = text(message);
  return {
    role: "assistant",
    content: [
      ...(body ? [{ text: body }] : []),
      ...functionCalls(message, provider).map((c) => ({
        toolUse: {
          toolUseId: c.id,
          name: c.function.name,
          input: parseArguments(c.function.arguments, provider),
        },
      })),
    ],
  };
}

function toolConfigOf(request: ChatCompletionRequest): ConverseBody["toolConfig"] {
  const tools = functionTools(request, provider);
  const choice = tools.length > 0 ? functionToolChoice(request, provider) : undefined;
  if (tools.length === 0 || choice === "none") return undefined;
  const toolChoice =
    choice === "required"
      ? { any: {} }
      : typeof choice === "object"
        ? { tool: { name: choice.name } }
        : choice === "auto"
          ? { auto: {} }
          : undefined;
  return {
    tools: tools.map((t) => ({
      toolSpec: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        inputSchema: { json: t.parameters ?? { type: "object", properties: {} } },
      },
    })),
    ...(toolChoice ? { toolChoice } : {}),
  };
}

/**
 * OpenAI chat → Converse. Documented rules: system/developer messages become `system` blocks; tool
 * messages `toolResult` blocks in a user turn; `tool_choice: "none"` sends no tools; `top_k` goes in
 * `additionalModelRequestFields`; images must be png/jpeg/gif/webp data: URLs. Which fields pass, are
 * dropped or refused (a {@link FieldRefusal}) is the table in `fields.ts`.
 */
export function toConverseBody(request: ChatCompletionRequest, stream = false): ConverseBody {
  enforceFieldRules({ provider, table: bedrockFields, request, stream });
  const turns: Turn[] = [];
  for (const turn of request.messages.map(turnOf)) {
    if (!turn) continue;
    const last = turns.at(-1);
    if (last && last.role === turn.role) last.content.push(...turn.content);
    else turns.push({ role: turn.role, content: [...turn.content] });
  }
  const system = systemText(request);
  const stop = stopList(request);
  const { maxTokens, temperature, topP, topK } = samplingOf(request);
  const inference = {
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(temperature !== undefined ? { temperature: Math.min(temperature, 1) } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(stop ? { stopSequences: stop } : {}),
  };
  const toolConfig = toolConfigOf(request);
  return {
    messages: turns,
    ...(system ? { system: [{ text: system }] } : {}),
    ...(Object.keys(inference).length > 0 ? { inferenceConfig: inference } : {}),
    ...(toolConfig ? { toolConfig } : {}),
    ...(topK !== undefined ? { additionalModelRequestFields: { top_k: topK } } : {}),
  };
}
