import type { Completion, Usage } from "../chat/types.ts";

/** Chat finish reasons as Anthropic stop reasons. */
export function stopReasonOf(finishReason: string | null | undefined): string {
  switch (finishReason) {
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return "end_turn";
  }
}

/** The id of a message answered from chat completion `chatId`: stable, so a cached answer keeps it. */
export function messageIdOf(chatId: string): string {
  return `msg_${chatId.replace(/^chatcmpl-/, "")}`;
}

/** Tool arguments as the `input` object (arguments that are not a JSON object are kept as `_raw`). */
export function toolInputOf(args: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(args || "{}");
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : { _raw: args };
  } catch {
    return { _raw: args };
  }
}

export function anthropicUsage(usage: Usage | null | undefined) {
  return { input_tokens: usage?.prompt_tokens ?? 0, output_tokens: usage?.completion_tokens ?? 0 };
}

/** A complete chat completion as an Anthropic message (its first choice). */
export function completionToMessage(completion: Completion) {
  const choice = completion.choices[0];
  const content: Record<string, unknown>[] = [];
  const text = choice?.message.content ?? choice?.message.refusal ?? "";
  if (text) content.push({ type: "text", text });
  for (const call of choice?.message.tool_calls ?? []) {
    if (call.function) {
      content.push({
        type: "tool_use",
        id: call.id,
        name: call.function.name,
        input: toolInputOf(call.function.arguments),
      });
    }
  }
  return {
    id: messageIdOf(completion.id),
    type: "message",
    role: "assistant",
    model: completion.model,
    content,
    stop_reason: stopReasonOf(choice?.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(completion.usage),
  };
}

/** OpenAI error types (and statuses) as Anthropic error types. */
function errorTypeOf(status: number, openAiType: string | undefined): string {
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 529 || status === 503) return "overloaded_error";
  if (status >= 500) return "api_error";
  if (
    openAiType &&
    ["invalid_request_error", "authentication_error", "permission_error", "rate_limit_error"].includes(
      openAiType,
    )
  ) {
    return openAiType;
  }
  return "invalid_request_error";
}

/** An OpenAI-shaped error body (with the request id) in Anthropic's error shape. */
export function anthropicErrorOf(status: number, body: unknown, requestId: string) {
  const error = (
    body as { error?: { message?: unknown; type?: unknown; param?: unknown; request_id?: unknown } } | null
  )?.error;
  const message = typeof error?.message === "string" ? error.message : "The request failed.";
  return {
    type: "error",
    error: { type: errorTypeOf(status, typeof error?.type === "string" ? error.type : undefined), message },
    request_id: typeof error?.request_id === "string" ? error.request_id : requestId,
  };
}
