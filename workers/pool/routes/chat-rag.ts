import type { Context } from "hono";
import { headers } from "../../../shared/headers.ts";
import { type AnswerResponse, abstentions } from "../../../shared/schemas/answer.ts";
import {
  type ChatCompletionRequest,
  type ChatCompletionResponse,
  type ChatMessage,
  messageText,
} from "../../../shared/schemas/chat.ts";
import { checkAnswer, citationsOf, gateField } from "../../retrieval/answer.ts";
import type { ScoredChunk } from "../../retrieval/fusion.ts";
import { buildAnswerMessages, cleanReply } from "../../retrieval/prompt.ts";
import type { PoolHonoEnv } from "../types.ts";

export const ragModel = "tiergate-rag-abstention";

/** The outcome of RAG on a chat request, decided before any model runs. */
export type ChatGrounding =
  | { kind: "none"; request: ChatCompletionRequest }
  | {
      kind: "abstain";
      rule: string;
      scores: AnswerResponse["scores"];
      completion: ChatCompletionResponse;
    }
  | {
      kind: "context";
      request: ChatCompletionRequest;
      citations: AnswerResponse["citations"];
      scores: AnswerResponse["scores"];
      /** The question and its passages, for the answer gate. */
      question: string;
      context: ScoredChunk[];
    };

function lastUserIndex(messages: readonly ChatMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === "user") return i;
  return -1;
}

function abstention(requestId: string, text: string): ChatCompletionResponse {
  return {
    id: `chatcmpl-${requestId}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: ragModel,
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

/**
 * RAG on chat (`rag: {collection}`): the last user message is the question. Nothing relevant enough →
 * the deterministic abstention as a normal completion, no model called. Otherwise the retrieved
 * passages replace the conversation's system prompt and frame the question, and the router answers.
 */
export async function groundChat(
  c: Context<PoolHonoEnv>,
  request: ChatCompletionRequest,
): Promise<ChatGrounding> {
  const { rag, ...plain } = request;
  if (!rag) return { kind: "none", request: plain };
  const at = lastUserIndex(plain.messages);
  const asked = plain.messages[at];
  const question = asked ? messageText(asked) : "";
  const grounding = await c.get("services").retrieval.ground(
    { ...rag, question },
    {
      tenant: c.req.header(headers.tenant) ?? "unknown",
      requestId: c.get("requestId"),
      signal: c.req.raw.signal,
    },
  );
  if (grounding.kind === "abstain") {
    return {
      kind: "abstain",
      rule: grounding.rule,
      scores: grounding.scores,
      completion: abstention(c.get("requestId"), grounding.text),
    };
  }
  const [system, user] = buildAnswerMessages(question, grounding.context);
  const notSystem = (m: ChatMessage) => m.role !== "system" && m.role !== "developer";
  const messages: ChatMessage[] = [
    ...(system ? [{ role: "system" as const, content: system.content }] : []),
    ...plain.messages.slice(0, Math.max(0, at)).filter(notSystem),
    ...(user ? [{ role: "user" as const, content: user.content }] : []),
    ...plain.messages.slice(at + 1).filter(notSystem),
  ];
  return {
    kind: "context",
    request: { ...plain, messages },
    citations: citationsOf(grounding.context),
    scores: grounding.scores,
    question,
    context: grounding.context,
  };
}

/** A RAG chat answer after the answer gate: as generated, or withheld with the abstention text. */
export interface GatedChatCompletion {
  completion: ChatCompletionResponse & {
    citations: AnswerResponse["citations"];
    rag_gate?: NonNullable<AnswerResponse["gate"]>;
  };
  withheld: boolean;
}

/**
 * Runs the answer gate on a generated RAG chat answer. A withheld answer keeps the completion's id,
 * model and usage; its content becomes "No sufficiently relevant information found." and `rag_gate`
 * says why, with the unsupported spans.
 */
export function gateChatCompletion(
  c: Context<PoolHonoEnv>,
  grounding: Extract<ChatGrounding, { kind: "context" }>,
  completion: ChatCompletionResponse,
): GatedChatCompletion {
  const answer = cleanReply(completion.choices[0]?.message.content ?? "");
  const verdict = checkAnswer(c.get("services").retrieval.gate, {
    question: grounding.question,
    answer,
    context: grounding.context,
  });
  const withContent = (content: string) =>
    completion.choices.map((choice, i) =>
      i === 0 ? { ...choice, message: { role: "assistant" as const, content } } : choice,
    );
  if (!verdict || verdict.supported) {
    const choices = withContent(verdict?.answer ?? answer);
    return { completion: { ...completion, choices, citations: grounding.citations }, withheld: false };
  }
  const choices = withContent(abstentions.below_threshold);
  return {
    completion: { ...completion, choices, citations: grounding.citations, rag_gate: gateField(verdict) },
    withheld: true,
  };
}

/** Compact headers describing the RAG outcome. */
export function ragHeaders(grounding: ChatGrounding): Record<string, string> {
  if (grounding.kind === "none") return {};
  const rule = grounding.kind === "abstain" ? grounding.rule : "generated";
  const out: Record<string, string> = {
    [headers.ragRule]: rule,
    [headers.ragScore]: grounding.scores.best === null ? "none" : grounding.scores.best.toFixed(3),
  };
  if (grounding.kind === "context") {
    out[headers.ragCitations] = grounding.citations
      .map((c) => c.chunk_id)
      .join(",")
      .slice(0, 1024);
  }
  return out;
}
