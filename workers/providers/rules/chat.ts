import type { ChatCompletionRequest, ChatCompletionResponse } from "../../../shared/schemas/chat.ts";
import { messageText } from "../../../shared/schemas/chat.ts";
import type { ChatChunk } from "../types.ts";
import { rulesEndpoint } from "./endpoint.ts";

/** Intents with canned answers, matched on the last user message. First match wins. */
const cannedAnswers: { intent: string; pattern: RegExp; answer: string }[] = [
  {
    intent: "greeting",
    pattern: /^\s*(hi|hello|hey|good (morning|afternoon|evening))\b/i,
    answer: "Hello! How can I help?",
  },
  { intent: "thanks", pattern: /\b(thanks|thank you|cheers)\b/i, answer: "You're welcome." },
  { intent: "farewell", pattern: /^\s*(bye|goodbye|see you)\b/i, answer: "Goodbye!" },
  {
    intent: "identity",
    pattern: /\bwho are you\b|\bwhat are you\b/i,
    answer: "I am tiergate's fallback responder; the model tiers are unavailable right now.",
  },
];

const unavailableAnswer =
  "I can't answer this right now: the model tiers are unavailable. Please try again shortly.";

const contextMarker = /(?:^|\n)\s*(?:context|document|passage|text)\s*:\s*/i;
const words = (text: string) => new Set(text.toLowerCase().match(/[a-z0-9]{3,}/g) ?? []);

/** The given context, if any: system/developer messages, or text after a `Context:` marker. */
function givenContext(request: ChatCompletionRequest, question: string): string {
  const marker = contextMarker.exec(question);
  if (marker) return question.slice(marker.index + marker[0].length);
  return request.messages
    .filter((m) => m.role === "system" || m.role === "developer" || m.role === "tool")
    .map(messageText)
    .join("\n");
}

/** The context sentence sharing the most words with the question, if it shares at least two. */
function extractiveAnswer(context: string, question: string): string | undefined {
  const questionWords = words(
    contextMarker.exec(question) ? (question.split(contextMarker)[0] ?? "") : question,
  );
  let best: { sentence: string; overlap: number } | undefined;
  for (const sentence of context.split(/(?<=[.!?])\s+|\n+/)) {
    const trimmed = sentence.trim();
    if (!trimmed) continue;
    let overlap = 0;
    for (const word of words(trimmed)) if (questionWords.has(word)) overlap++;
    if (!best || overlap > best.overlap) best = { sentence: trimmed, overlap };
  }
  return best && best.overlap >= 2 ? best.sentence : undefined;
}

/** Which rule answered, for the route header and the event. */
export interface RulesAnswer {
  rule: string;
  content: string;
}

export function rulesAnswer(request: ChatCompletionRequest): RulesAnswer {
  const lastUser = [...request.messages].reverse().find((m) => m.role === "user");
  const question = lastUser ? messageText(lastUser) : "";
  const context = givenContext(request, question);
  const extracted = context ? extractiveAnswer(context, question) : undefined;
  if (extracted) return { rule: "extractive", content: extracted };
  const canned = cannedAnswers.find((c) => c.pattern.test(question));
  if (canned) return { rule: `canned:${canned.intent}`, content: canned.answer };
  return { rule: "unavailable", content: unavailableAnswer };
}

const approxTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

/** A complete chat completion from the rules. */
export function rulesChat(
  request: ChatCompletionRequest,
  id: string,
): ChatCompletionResponse & { rule: string } {
  const answer = rulesAnswer(request);
  const prompt = approxTokens(request.messages.map(messageText).join("\n"));
  const completion = approxTokens(answer.content);
  return {
    id: `chatcmpl-${id}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: rulesEndpoint.model,
    choices: [{ index: 0, message: { role: "assistant", content: answer.content }, finish_reason: "stop" }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    rule: answer.rule,
  };
}

/** The same answer as stream chunks: role, the text, then the finish chunk with usage. */
export function rulesChatChunks(completion: ChatCompletionResponse): ChatChunk[] {
  const head = {
    id: completion.id,
    object: "chat.completion.chunk",
    created: completion.created,
    model: completion.model,
  };
  return [
    { ...head, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
    {
      ...head,
      choices: [
        { index: 0, delta: { content: completion.choices[0]?.message.content ?? "" }, finish_reason: null },
      ],
    },
    { ...head, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: completion.usage },
  ];
}
