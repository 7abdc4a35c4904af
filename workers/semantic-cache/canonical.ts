import { canonicalJson } from "../../shared/canonical-json.ts";
import { answerShapingFields } from "../../shared/schemas/answer-fields.ts";
import type { ChatCompletionRequest, ChatMessage } from "../../shared/schemas/chat.ts";
import { sha256Hex } from "../../shared/signing.ts";

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
  // The same answer-shaping fields as the exact cache's key, hashed with the history before the last
  // user turn (system prompt included) into the partition key.
  for (const field of answerShapingFields) {
    if (request[field] !== undefined) picked[field] = request[field];
  }
  return { partition: await sha256Hex(canonicalJson(picked)), prompt };
}
