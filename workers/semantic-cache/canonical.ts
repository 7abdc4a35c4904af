import { canonicalJson } from "../../shared/canonical-json.ts";
import type { ChatCompletionRequest, ChatMessage } from "../../shared/schemas/chat.ts";
import { sha256Hex } from "../../shared/signing.ts";

/**
 * Request fields that must be equal for two requests to share an answer, besides the prompt itself:
 * the model, every sampling parameter, the output format, tools and tool choice. Hashed with the
 * conversation before the last user turn (system prompt included) into the partition key.
 */
const partitionFields = [
  "model",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "seed",
  "response_format",
  "tools",
  "tool_choice",
  "top_k",
  "min_p",
  "repetition_penalty",
] as const satisfies readonly (keyof ChatCompletionRequest)[];

/** Why a request is not looked up in (nor stored into) the semantic cache. */
export type Ineligible = "not_text" | "no_user_turn" | "tool_history" | "rag" | "n_choices";

/** What the semantic cache keys a request by. */
export interface SemanticPrompt {
  /** sha256 of the model, sampling parameters, tools and the conversation before the last user turn. */
  partition: string;
  /** The last user turn, canonicalised: NFKC, whitespace collapsed, trimmed. What is embedded. */
  prompt: string;
}

/** The text of a message when it is plain text (a string or text parts only); null otherwise. */
function plainText(m: ChatMessage): string | null {
  const c = m.content;
  if (c === undefined || c === null) return "";
  if (typeof c === "string") return c;
  if (c.some((part) => part.type !== "text")) return null;
  return c.map((part) => (part.type === "text" ? part.text : "")).join("");
}

/** NFKC, one space between words, no leading/trailing space. Case is kept (the guard reads it). */
export function canonicalPrompt(text: string): string {
  return text.normalize("NFKC").replace(/\s+/g, " ").trim();
}

/**
 * The request's semantic key, or why it has none: only text conversations whose last turn is the user's,
 * with no tool calls or tool results in the history (an answer built on tool output is never shared).
 */
export async function semanticPrompt(
  request: ChatCompletionRequest,
  /** The key's allowed models (null: any): answers are shared only between callers allowed the same. */
  allowedModels: readonly string[] | null = null,
): Promise<SemanticPrompt | { ineligible: Ineligible }> {
  if (request.rag) return { ineligible: "rag" };
  if ((request as { n?: number }).n !== undefined && (request as { n?: number }).n !== 1) {
    return { ineligible: "n_choices" };
  }
  const last = request.messages.at(-1);
  if (last?.role !== "user") return { ineligible: "no_user_turn" };
  const history: { role: string; text: string }[] = [];
  for (const m of request.messages.slice(0, -1)) {
    if (m.role === "tool" || (m.role === "assistant" && m.tool_calls?.length)) {
      return { ineligible: "tool_history" };
    }
    const text = plainText(m);
    if (text === null) return { ineligible: "not_text" };
    history.push({ role: m.role, text });
  }
  const lastText = plainText(last);
  if (lastText === null) return { ineligible: "not_text" };
  const prompt = canonicalPrompt(lastText);
  if (prompt === "") return { ineligible: "no_user_turn" };
  const picked: Record<string, unknown> = {
    history,
    allowed: allowedModels === null ? null : [...allowedModels].sort(),
  };
  for (const field of partitionFields) {
    if (request[field] !== undefined) picked[field] = request[field];
  }
  return { partition: await sha256Hex(canonicalJson(picked)), prompt };
}
