import type { ResponsesRequest } from "../../schemas/responses.ts";
import type { Completion, CompletionChoice, Usage } from "../chat/types.ts";

/** An output item of a response: an assistant message or a function call. */
export type OutputItem = Record<string, unknown> & { type: string; id: string };

/** Usage in the Responses shape. */
export function responsesUsage(usage: Usage | null | undefined) {
  const input = usage?.prompt_tokens ?? 0;
  const output = usage?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage?.total_tokens ?? input + output,
  };
}

/** The id of a response answered from chat completion `chatId`: stable, so a cached answer keeps it. */
export function responseIdOf(chatId: string): string {
  return `resp_${chatId.replace(/^chatcmpl-/, "")}`;
}

/** The message item of a finished choice's text (or refusal). */
export function messageItem(
  id: string,
  text: string,
  logprobs: unknown[] | null,
  refusalText?: string | null,
) {
  const content: Record<string, unknown>[] = [];
  if (refusalText) content.push({ type: "refusal", refusal: refusalText });
  else content.push({ type: "output_text", text, annotations: [], logprobs: logprobs ?? [] });
  return { type: "message", id, status: "completed", role: "assistant", content };
}

/** The output items of a chat choice: its message (when it has text or a refusal), then its calls. */
export function outputItems(choice: CompletionChoice, responseId: string): OutputItem[] {
  const items: OutputItem[] = [];
  const { message } = choice;
  if (message.content || message.refusal || !message.tool_calls?.length) {
    items.push(
      messageItem(
        `msg_${responseId}`,
        message.content ?? "",
        choice.logprobs?.content ?? null,
        message.refusal,
      ),
    );
  }
  for (const call of message.tool_calls ?? []) {
    if (!call.function) continue;
    items.push({
      type: "function_call",
      id: `fc_${call.id}`,
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
      status: "completed",
    });
  }
  return items;
}

/** The request's settings a response echoes. */
export function echoedSettings(request: ResponsesRequest) {
  return {
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: null },
    store: request.store === true,
    temperature: request.temperature ?? 1,
    text: {
      format: request.text?.format ?? { type: "text" },
      verbosity: request.text?.verbosity ?? "medium",
    },
    tool_choice: request.tool_choice ?? "auto",
    tools: request.tools ?? [],
    top_p: request.top_p ?? 1,
    truncation: request.truncation ?? "disabled",
    user: request.user ?? null,
    error: null,
  };
}

/** Whether the chat finish reason means the answer was cut off by the token limit. */
export function incompleteDetails(finishReason: string | null | undefined) {
  if (finishReason === "length") return { reason: "max_output_tokens" };
  if (finishReason === "content_filter") return { reason: "content_filter" };
  return null;
}

/** A complete chat completion as a Responses API response (its first choice). */
export function completionToResponse(completion: Completion, request: ResponsesRequest) {
  const id = responseIdOf(completion.id);
  const choice = completion.choices[0];
  const incomplete = incompleteDetails(choice?.finish_reason);
  return {
    id,
    object: "response",
    created_at: completion.created,
    status: incomplete ? "incomplete" : "completed",
    incomplete_details: incomplete,
    model: completion.model,
    output: choice ? outputItems(choice, id) : [],
    usage: responsesUsage(completion.usage),
    ...echoedSettings(request),
  };
}
