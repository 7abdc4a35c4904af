import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { messageText } from "../../shared/schemas/chat.ts";
import { type TaskType, taskTypes } from "../providers/types.ts";
import type { LevelSuccess } from "./difficulty/model.ts";

export type Difficulty = "easy" | "hard";

/** What the small tier (or the heuristic) says about a request. */
export interface Classification {
  task: TaskType;
  difficulty: Difficulty;
  /** 0..1 */
  confidence: number;
  /**
   * Who decided: the model agreeing with the heuristic, the model alone, the heuristic alone, or the
   * learned difficulty classifier.
   */
  decidedBy: "model+heuristic" | "model" | "heuristic" | "learned";
  /** Why the model did not decide, when it did not ("unparsable", "failed", "disabled"). */
  note?: string;
  /** Learned classifier only: the task class (code, translate, reasoning, …). */
  category?: string;
  /** Learned classifier only: the predicted chance each level (small, medium, large) answers well. */
  success?: LevelSuccess;
  /** Learned classifier only: the classifier's version. */
  modelVersion?: string;
}

const patterns: Record<TaskType, RegExp> = {
  classify:
    /\b(classify|categori[sz]e|category|label|sentiment|spam|positive or negative|yes or no|true or false|which (one|class|category)|is (this|it) (a|an)?\s*\w+\?)/i,
  extract:
    /\b(extract|pull out|find (all|the)|list (all|the|every)|what (is|are) the (date|email|name|number|address|price)s?|parse|fields?\b|entities)/i,
  generate:
    /\b(write|compose|draft|generate|create|story|poem|essay|explain|summari[sz]e|translate|rewrite|code|implement|describe)\b/i,
  chat: /^\s*(hi|hello|hey|thanks|thank you|how are you|good (morning|evening))\b/i,
};
const hardHints =
  /\b(step by step|in detail|detailed|prove|analy[sz]e|compare|reason|thorough|comprehensive)\b/i;

/** The text of the last user message (what the classifiers look at). */
export function lastUserText(request: ChatCompletionRequest): string {
  const last = [...request.messages].reverse().find((m) => m.role === "user");
  return last ? messageText(last) : "";
}

/** The deterministic classifier: keyword rules over the last user message. */
export function heuristicClassify(request: ChatCompletionRequest): Classification {
  const text = lastUserText(request);
  const matches = taskTypes.filter((task) => patterns[task].test(text));
  const totalChars = request.messages.reduce((sum, m) => sum + messageText(m).length, 0);
  const difficulty: Difficulty = hardHints.test(text) || totalChars > 4_000 ? "hard" : "easy";
  if (matches.length === 1) {
    return { task: matches[0] as TaskType, difficulty, confidence: 0.8, decidedBy: "heuristic" };
  }
  if (matches.length > 1) {
    // Priority when several match: the most demanding task wins, with less confidence.
    const task =
      (["generate", "extract", "classify", "chat"] as const).find((t) => matches.includes(t)) ?? "chat";
    return { task, difficulty, confidence: 0.55, decidedBy: "heuristic" };
  }
  return {
    task: text.length > 200 ? "generate" : "chat",
    difficulty,
    confidence: 0.5,
    decidedBy: "heuristic",
  };
}

const examples: [string, TaskType][] = [
  ["Is this email spam? 'You won a prize'", "classify"],
  ["Pull the dates out of this text: met on 3 May", "extract"],
  ["Write a story about a dragon", "generate"],
  ["Hello there, how is your day?", "chat"],
];

/** A few-shot prompt whose only sensible continuation is one label word (fits a 135M model). */
export function classifierPrompt(request: ChatCompletionRequest): string {
  const text = lastUserText(request).replace(/\s+/g, " ").slice(0, 500);
  const shots = examples.map(([q, label]) => `Request: ${q}\nLabel: ${label}\n`).join("");
  return `Label each request with one word: classify, extract, generate or chat.\n${shots}Request: ${text}\nLabel:`;
}

/** Strict parse: the answer must be exactly one label word (case and surrounding space ignored). */
export function parseLabel(answer: string): TaskType | undefined {
  const word =
    answer
      .trim()
      .split(/\s+/)[0]
      ?.toLowerCase()
      .replace(/[.,;:!]+$/, "") ?? "";
  return (taskTypes as readonly string[]).includes(word) ? (word as TaskType) : undefined;
}

/**
 * Combines the model's label with the heuristic. Agreement raises confidence; disagreement keeps the
 * label of the more sure side but with low confidence (so the policy escalates); no label means the
 * heuristic decides alone.
 */
export function combine(
  heuristic: Classification,
  label: TaskType | undefined,
  note?: string,
): Classification {
  if (label === undefined) return { ...heuristic, ...(note ? { note } : {}) };
  if (label === heuristic.task) {
    return { ...heuristic, confidence: Math.max(0.9, heuristic.confidence), decidedBy: "model+heuristic" };
  }
  if (heuristic.confidence >= 0.8) return { ...heuristic, confidence: 0.5, note: `model said ${label}` };
  return { ...heuristic, task: label, confidence: 0.5, decidedBy: "model" };
}
