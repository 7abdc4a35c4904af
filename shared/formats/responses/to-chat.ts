import { GatewayError } from "../../errors.ts";
import type { ChatCompletionRequest, ChatMessage } from "../../schemas/chat.ts";
import type { ResponsesContentPart, ResponsesInputItem, ResponsesRequest } from "../../schemas/responses.ts";

type UserPart = Extract<Extract<ChatMessage, { role: "user" }>["content"], unknown[]>[number];
type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;

/**
 * Fields that need state this gateway does not keep: a 400 naming the field. (`previous_response_id`
 * is resolved from the response store before translation; the stored chain becomes the input.)
 */
function refuseStateful(request: ResponsesRequest): void {
  const refused: [keyof ResponsesRequest, boolean][] = [
    ["conversation", request.conversation !== undefined && request.conversation !== null],
    ["background", request.background === true],
    ["prompt", request.prompt !== undefined && request.prompt !== null],
  ];
  for (const [field, present] of refused) {
    if (present) {
      throw new GatewayError(
        "BAD_REQUEST",
        `${field} is not supported: this gateway keeps no conversations, prompts or background jobs (send the input, or use previous_response_id with store).`,
        { param: field },
      );
    }
  }
}

/** A Responses content part as a chat content part (assistant text and refusals become text). */
function chatPart(part: ResponsesContentPart, path: string): UserPart {
  switch (part.type) {
    case "input_text":
    case "output_text":
      return { type: "text", text: part.text };
    case "refusal":
      return { type: "text", text: part.refusal };
    case "input_image":
      if (!part.image_url) {
        throw new GatewayError(
          "BAD_REQUEST",
          `${path}: an input_image needs image_url (file ids are not served).`,
          {
            param: path,
          },
        );
      }
      return {
        type: "image_url",
        image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) },
      };
    case "input_file":
      return {
        type: "file",
        file: {
          ...(part.file_data !== undefined ? { file_data: part.file_data } : {}),
          ...(part.file_id ? { file_id: part.file_id } : {}),
          ...(part.filename !== undefined ? { filename: part.filename } : {}),
        },
      };
    case "input_audio":
      return { type: "input_audio", input_audio: part.input_audio };
  }
}

/** Text of parts, for roles whose chat content is text only. */
function textOf(content: string | ResponsesContentPart[]): string {
  if (typeof content === "string") return content;
  return content
    .map((p) => (p.type === "refusal" ? p.refusal : "text" in p && typeof p.text === "string" ? p.text : ""))
    .join("");
}

/** Appends one input item to the chat messages; consecutive function calls share one assistant turn. */
function appendItem(messages: ChatMessage[], item: ResponsesInputItem, index: number): void {
  const path = `input.${index}`;
  if (item.type === "function_call") {
    const call = {
      id: item.call_id,
      type: "function" as const,
      function: { name: item.name, arguments: item.arguments },
    };
    const last = messages.at(-1);
    if (last?.role === "assistant" && last.tool_calls) {
      last.tool_calls.push(call);
      return;
    }
    messages.push({ role: "assistant", content: null, tool_calls: [call] } satisfies AssistantMessage);
    return;
  }
  if (item.type === "function_call_output") {
    messages.push({ role: "tool", tool_call_id: item.call_id, content: textOf(item.output) });
    return;
  }
  if (item.role === "user") {
    const content =
      typeof item.content === "string"
        ? item.content
        : item.content.map((p, i) => chatPart(p, `${path}.content.${i}`));
    messages.push({ role: "user", content });
    return;
  }
  messages.push({ role: item.role, content: textOf(item.content) });
}

/** The chat messages of a Responses input, `instructions` first as a system message. */
function chatMessages(request: ResponsesRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (request.instructions) messages.push({ role: "system", content: request.instructions });
  if (typeof request.input === "string") {
    messages.push({ role: "user", content: request.input });
  } else {
    for (const [index, item] of request.input.entries()) appendItem(messages, item, index);
  }
  return messages;
}

/** `text.format` as chat's `response_format`. */
function responseFormat(request: ResponsesRequest): ChatCompletionRequest["response_format"] {
  const format = request.text?.format;
  if (format?.type !== "json_schema") return format;
  const { type, ...schema } = format;
  return { type, json_schema: schema };
}

/**
 * A Responses request as the chat completion request that answers it. Dropped: `include`, `store`,
 * `truncation`, `max_tool_calls`, `stream_options` and `reasoning.summary` (chat has no equivalent);
 * everything else maps to its chat field.
 */
export function responsesToChat(request: ResponsesRequest): ChatCompletionRequest {
  refuseStateful(request);
  const tools = request.tools?.map(({ type, ...fn }) => ({
    type,
    function: {
      name: fn.name,
      ...(fn.description ? { description: fn.description } : {}),
      ...(fn.parameters ? { parameters: fn.parameters } : {}),
      ...(fn.strict !== undefined && fn.strict !== null ? { strict: fn.strict } : {}),
    },
  }));
  const choice = request.tool_choice;
  const chat: ChatCompletionRequest = {
    model: request.model,
    messages: chatMessages(request),
    temperature: request.temperature,
    top_p: request.top_p,
    max_tokens: request.max_output_tokens,
    stream: request.stream === true,
    ...(request.stream ? { stream_options: { include_usage: true } } : {}),
    ...(tools ? { tools } : {}),
    ...(choice !== undefined
      ? {
          tool_choice:
            typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } },
        }
      : {}),
    ...(request.parallel_tool_calls !== undefined && request.parallel_tool_calls !== null
      ? { parallel_tool_calls: request.parallel_tool_calls }
      : {}),
    response_format: responseFormat(request),
    verbosity: request.text?.verbosity,
    reasoning_effort: request.reasoning?.effort,
    ...(typeof request.top_logprobs === "number"
      ? { logprobs: true, top_logprobs: request.top_logprobs }
      : {}),
    metadata: request.metadata,
    user: request.user,
    safety_identifier: request.safety_identifier,
    prompt_cache_key: request.prompt_cache_key,
    prompt_cache_retention: request.prompt_cache_retention,
    service_tier: request.service_tier,
  };
  for (const key of Object.keys(chat) as (keyof ChatCompletionRequest)[]) {
    if (chat[key] === undefined) delete chat[key];
  }
  return chat;
}
