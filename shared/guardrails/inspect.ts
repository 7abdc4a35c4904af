import type { ChatMessage } from "../schemas/chat.ts";
import type { PiiKind } from "./detectors.ts";
import type { GuardrailPolicy } from "./policy.ts";
import { enabledKinds, type FindingCounts, type Placeholders, scanText } from "./redact.ts";

/** The input side of the guardrails over a chat request's messages. */
export interface MessagesInspection {
  /** The messages to forward: `redact` findings replaced by placeholders (the same array when none). */
  messages: ChatMessage[];
  /** The first `block` finding, if any: the request must be refused. */
  blocked: PiiKind | null;
  counts: FindingCounts;
}

type Content = ChatMessage["content"];

function scanContent(content: Content, scan: (text: string) => string): Content {
  if (content === undefined || content === null) return content;
  if (typeof content === "string") return scan(content);
  let changed = false;
  const parts = content.map((part) => {
    if (part.type !== "text") return part;
    const text = scan(part.text);
    if (text === part.text) return part;
    changed = true;
    return { ...part, text };
  });
  // The parts keep their message's own part types: only text parts are rewritten, in place.
  return changed ? (parts as Content) : content;
}

type ToolCall = NonNullable<Extract<ChatMessage, { role: "assistant" }>["tool_calls"]>[number];

/** A function call's arguments and a custom call's input are both model-visible text: both are scanned. */
function scanToolCall(call: ToolCall, scan: (text: string) => string): ToolCall {
  if (call.type === "custom") {
    const input = scan(call.custom.input);
    return input === call.custom.input ? call : { ...call, custom: { ...call.custom, input } };
  }
  const args = scan(call.function.arguments);
  return args === call.function.arguments
    ? call
    : { ...call, function: { ...call.function, arguments: args } };
}

function scanMessage(message: ChatMessage, scan: (text: string) => string): ChatMessage {
  const content = scanContent(message.content, scan);
  if (message.role === "assistant" && message.tool_calls) {
    const toolCalls = message.tool_calls.map((call) => scanToolCall(call, scan));
    return { ...message, content, tool_calls: toolCalls } as ChatMessage;
  }
  return content === message.content ? message : ({ ...message, content } as ChatMessage);
}

/**
 * Runs the policy's PII detectors over every message's text (text parts, function-call arguments and
 * custom-call input): counts findings, replaces `redact` ones with the request's stable placeholders,
 * reports a `block`.
 */
export function inspectMessages(
  messages: readonly ChatMessage[],
  policy: GuardrailPolicy,
  placeholders: Placeholders,
): MessagesInspection {
  const counts: FindingCounts = {};
  const kinds = enabledKinds(policy);
  if (kinds.size === 0) return { messages: [...messages], blocked: null, counts };
  let blocked: PiiKind | null = null;
  const scan = (text: string): string => {
    const result = scanText(text, (k) => policy.pii?.[k], {
      kinds,
      counts,
      replace: (kind, value) => placeholders.for(kind, value),
    });
    blocked ??= result.blocked;
    return result.text;
  };
  const out = messages.map((m) => scanMessage(m, scan));
  return { messages: out, blocked, counts };
}
