import type { AnthropicBlock, AnthropicMessage, MessagesRequest } from "../../schemas/anthropic.ts";
import type { ChatCompletionRequest, ChatMessage } from "../../schemas/chat.ts";

type UserPart = Extract<Extract<ChatMessage, { role: "user" }>["content"], unknown[]>[number];
type ToolCall = NonNullable<Extract<ChatMessage, { role: "assistant" }>["tool_calls"]>[number];

/** A user-side block as a chat content part; null for blocks that are not content (tool results). */
function userPart(block: AnthropicBlock): UserPart | null {
  switch (block.type) {
    case "text":
      return { type: "text", text: block.text };
    case "image": {
      const { source } = block;
      const url = source.type === "base64" ? `data:${source.media_type};base64,${source.data}` : source.url;
      return { type: "image_url", image_url: { url } };
    }
    case "document": {
      const { source } = block;
      if (source.type === "text") return { type: "text", text: source.data };
      if (source.type === "url") return { type: "text", text: source.url };
      return {
        type: "file",
        file: {
          file_data: `data:${source.media_type};base64,${source.data}`,
          filename: block.title ?? "document.pdf",
        },
      };
    }
    default:
      return null;
  }
}

/** A tool result's content as text (images in results are not carried by chat tool messages). */
function toolResultText(block: Extract<AnthropicBlock, { type: "tool_result" }>): string {
  const { content } = block;
  const text =
    typeof content === "string"
      ? content
      : (content ?? []).map((part) => (part.type === "text" ? part.text : "")).join("");
  return block.is_error ? `Error: ${text}` : text;
}

/** A user turn: its tool results as tool messages first, then the rest as one user message. */
function userMessages(content: AnthropicBlock[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const block of content) {
    if (block.type === "tool_result") {
      out.push({ role: "tool", tool_call_id: block.tool_use_id, content: toolResultText(block) });
    }
  }
  const parts = content.map(userPart).filter((part): part is UserPart => part !== null);
  if (parts.length > 0) out.push({ role: "user", content: parts });
  return out;
}

/** An assistant turn: its text and its tool uses as tool calls; thinking blocks are dropped. */
function assistantMessage(content: AnthropicBlock[]): ChatMessage {
  const text = content.map((b) => (b.type === "text" ? b.text : "")).join("");
  const calls: ToolCall[] = content
    .filter((b): b is Extract<AnthropicBlock, { type: "tool_use" }> => b.type === "tool_use")
    .map((b) => ({
      id: b.id,
      type: "function" as const,
      function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
    }));
  return {
    role: "assistant",
    content: text || (calls.length > 0 ? null : ""),
    ...(calls.length ? { tool_calls: calls } : {}),
  };
}

function chatMessages(request: MessagesRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const system =
    typeof request.system === "string" ? request.system : request.system?.map((b) => b.text).join("\n");
  if (system) messages.push({ role: "system", content: system });
  for (const m of request.messages as AnthropicMessage[]) {
    if (typeof m.content === "string") messages.push({ role: m.role, content: m.content });
    else if (m.role === "assistant") messages.push(assistantMessage(m.content));
    else messages.push(...userMessages(m.content));
  }
  return messages;
}

function toolChoice(
  request: MessagesRequest,
): Pick<ChatCompletionRequest, "tool_choice" | "parallel_tool_calls"> {
  const choice = request.tool_choice;
  if (!choice) return {};
  const parallel =
    "disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use
      ? { parallel_tool_calls: false }
      : {};
  switch (choice.type) {
    case "auto":
      return { tool_choice: "auto", ...parallel };
    case "any":
      return { tool_choice: "required", ...parallel };
    case "none":
      return { tool_choice: "none" };
    case "tool":
      return { tool_choice: { type: "function", function: { name: choice.name } }, ...parallel };
  }
}

/**
 * A Messages request as the chat completion request that answers it. `thinking`, `service_tier` and
 * `cache_control` are accepted and dropped; everything else maps to its chat field.
 */
export function messagesToChat(request: MessagesRequest): ChatCompletionRequest {
  const chat: ChatCompletionRequest = {
    model: request.model,
    messages: chatMessages(request),
    max_tokens: request.max_tokens,
    stream: request.stream === true,
    ...(request.stream ? { stream_options: { include_usage: true } } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.top_p !== undefined ? { top_p: request.top_p } : {}),
    ...(request.top_k !== undefined ? { top_k: request.top_k } : {}),
    ...(request.stop_sequences?.length ? { stop: request.stop_sequences } : {}),
    ...(request.metadata?.user_id ? { user: request.metadata.user_id } : {}),
    ...(request.tools
      ? {
          tools: request.tools.map((t) => ({
            type: "function" as const,
            function: {
              name: t.name,
              ...(t.description ? { description: t.description } : {}),
              parameters: t.input_schema,
            },
          })),
        }
      : {}),
    ...toolChoice(request),
  };
  return chat;
}
